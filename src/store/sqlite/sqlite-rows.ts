// Row ↔ record mapping. Lists and metadata are JSON text columns; records come back frozen so a caller
// cannot mistake an edited copy for stored state (the memory store behaves the same).
import type { CheckpointRecord, EpochCause, EpochRecord, SessionRecord, SessionState } from '../types.js';

export interface SessionRow {
  session_id: string;
  task_id: string;
  agent_id: string;
  state: SessionState;
  state_reason: string | null;
  epoch: number;
  scope: string;
  original_scope: string;
  created_at: number;
  updated_at: number;
  lease_expires_at: number;
  resumes: number;
  metadata: string | null;
}

export interface CheckpointRow {
  checkpoint_id: string;
  session_id: string;
  seq: number;
  epoch: number;
  label: string | null;
  state: string | null;
  state_digest: string;
  created_at: number;
}

export interface EpochRow {
  session_id: string;
  epoch: number;
  started_at: number | null;
  cause: EpochCause;
  scope: string;
  agent_id: string;
}

/** Named parameters for the sessions insert. */
export function sessionParams(s: SessionRecord): SessionRow {
  return {
    session_id: s.sessionId,
    task_id: s.taskId,
    agent_id: s.agentId,
    state: s.state,
    state_reason: s.stateReason,
    epoch: s.epoch,
    scope: JSON.stringify(s.scope),
    original_scope: JSON.stringify(s.originalScope),
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    lease_expires_at: s.leaseExpiresAt,
    resumes: s.resumes,
    metadata: s.metadata === null ? null : JSON.stringify(s.metadata),
  };
}

/** Parsed scope lists by their JSON text. Every data-plane call reads its session (SPEC §6 step 5) and
 *  sessions share a handful of scopes, so the parse and freeze of the same text is done once. Frozen
 *  arrays are safe to share. Cleared when full rather than evicted: a miss only costs a parse. */
const scopeCache = new Map<string, readonly string[]>();
const SCOPE_CACHE_MAX = 1024;

function scopeOf(text: string): readonly string[] {
  let scope = scopeCache.get(text);
  if (scope === undefined) {
    if (scopeCache.size >= SCOPE_CACHE_MAX) scopeCache.clear();
    scope = Object.freeze(JSON.parse(text) as string[]);
    scopeCache.set(text, scope);
  }
  return scope;
}

export function toSession(row: SessionRow): SessionRecord {
  return Object.freeze({
    sessionId: row.session_id,
    taskId: row.task_id,
    agentId: row.agent_id,
    state: row.state,
    stateReason: row.state_reason,
    epoch: row.epoch,
    scope: scopeOf(row.scope),
    originalScope: scopeOf(row.original_scope),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    leaseExpiresAt: row.lease_expires_at,
    resumes: row.resumes,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
  });
}

export function toCheckpoint(row: CheckpointRow): CheckpointRecord {
  return Object.freeze({
    checkpointId: row.checkpoint_id,
    sessionId: row.session_id,
    seq: row.seq,
    epoch: row.epoch,
    label: row.label,
    state: row.state,
    stateDigest: row.state_digest,
    createdAt: row.created_at,
  });
}

export function toEpoch(row: EpochRow): EpochRecord {
  return Object.freeze({
    sessionId: row.session_id,
    epoch: row.epoch,
    startedAt: row.started_at,
    cause: row.cause,
    scope: scopeOf(row.scope),
    agentId: row.agent_id,
  });
}
