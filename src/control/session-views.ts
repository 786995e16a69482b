// Response shapes of SPEC §7. Times are RFC 3339 UTC strings.
import type { CheckpointRecord, SessionRecord } from '../store/types.js';
import { rfc3339 } from '../util/clock.js';

export interface IssuedToken {
  readonly token: string;
  readonly jti: string;
  /** seconds */
  readonly exp: number;
}

export function checkpointSummary(checkpoint: CheckpointRecord): Record<string, unknown> {
  return {
    checkpoint_id: checkpoint.checkpointId,
    seq: checkpoint.seq,
    epoch: checkpoint.epoch,
    label: checkpoint.label,
    state_digest: checkpoint.stateDigest,
    created_at: rfc3339(checkpoint.createdAt),
  };
}

export function checkpointWithState(checkpoint: CheckpointRecord | null): Record<string, unknown> | null {
  if (!checkpoint) return null;
  return { ...checkpointSummary(checkpoint), state: checkpoint.state === null ? null : JSON.parse(checkpoint.state) };
}

export function sessionView(session: SessionRecord, checkpoint: CheckpointRecord | null = null): Record<string, unknown> {
  return {
    session_id: session.sessionId,
    task_id: session.taskId,
    agent_id: session.agentId,
    state: session.state,
    state_reason: session.stateReason,
    epoch: session.epoch,
    scope: session.scope,
    created_at: rfc3339(session.createdAt),
    updated_at: rfc3339(session.updatedAt),
    lease_expires_at: rfc3339(session.leaseExpiresAt),
    resumes: session.resumes,
    metadata: session.metadata,
    last_checkpoint: checkpoint ? checkpointSummary(checkpoint) : null,
  };
}

/** A session response that carries a token (create, resume, token refresh). */
export function tokenView(session: SessionRecord, issued: IssuedToken, publicUrl: string): Record<string, unknown> {
  const toolUrls: Record<string, string> = {};
  for (const tool of session.scope) toolUrls[tool] = `${publicUrl}/tools/${encodeURIComponent(tool)}`;
  return {
    session_id: session.sessionId,
    task_id: session.taskId,
    agent_id: session.agentId,
    state: session.state,
    epoch: session.epoch,
    scope: session.scope,
    token: issued.token,
    token_type: 'Bearer',
    expires_at: rfc3339(issued.exp * 1000),
    lease_expires_at: rfc3339(session.leaseExpiresAt),
    tool_urls: toolUrls,
  };
}
