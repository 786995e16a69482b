// AuditEvent → one OCSF 1.9.0 API Activity record (class_uid 6003, SPEC §13), so SIEMs ingest the stream
// as is. Every member is built explicitly from a named AuditEvent field: nothing is spread from the event
// except `extra` into unmapped.epochgate, so a field added to AuditEvent later cannot leak by accident
// (SPEC §13 "Never in the stream"). Absent optional members are omitted, never written as null.
import { CATALOGUE, type ErrorCode } from '../errors/catalogue.js';
import type { AuditEvent, Disposition } from './types.js';
import { activityId } from './ocsf-activity.js';

export { activityFromMethod, activityId, type ActivityId } from './ocsf-activity.js';

export const OCSF_VERSION = '1.9.0';
export const API_ACTIVITY_CLASS_UID = 6003;
export const APPLICATION_ACTIVITY_CATEGORY_UID = 6;

export type SeverityId = 1 | 2 | 3 | 4 | 5;

export interface OcsfMeta {
  readonly productVersion: string;
  /** Position in the hash chain, from 1 per chain (SPEC §13). */
  readonly sequence: number;
  readonly eventUid: string;
  /** OCSF 1.9.0 record_integrity: the chain this record joins and the record before it in that chain. */
  readonly integrity?: ChainLink;
}

/** What the record_integrity attestation says about the chain (the same facts as unmapped.epochgate.chain). */
export interface ChainLink {
  readonly chainUid: string;
  /** The previous record of the same chain; absent on a chain's first record (OCSF: the genesis event). */
  readonly prev?: { readonly uid: string; readonly typeUid: number; readonly hash: string };
}

// metadata.profiles (OCSF 1.9.0): record_integrity whenever attestation_list is filled; ai_operation when
// the actor is an AI agent (ai_agent, delegation). Shared frozen arrays: no allocation per record.
const PROFILES_INTEGRITY = Object.freeze(['record_integrity']);
const PROFILES_AGENT = Object.freeze(['ai_operation']);
const PROFILES_BOTH = Object.freeze(['ai_operation', 'record_integrity']);

/**
 * SPEC §13 severity, the one table for every status (the `satisfies` makes a new catalogue code a compile
 * error here until it is classified). 1 success; 2 client errors that are not denials (upstream failures
 * too: not the caller's fault, but nothing security-relevant either, and 5 is reserved by the SPEC for the
 * gateway's own failures); 3 policy and approval denials (policy_invalid, keys_invalid: a refused policy revision or key file needs
 * an operator's attention but denies nobody); 4 fencing, replay and credential failures (all idempotency_*
 * codes, as replay protection); 5 store_unavailable and internal_error.
 */
export const SEVERITY_BY_STATUS = {
  ok: 1,
  bad_request: 2,
  invalid_request: 2,
  route_not_found: 2,
  session_not_found: 2,
  approval_not_found: 2,
  session_exists: 2,
  approval_not_pending: 2,
  payload_too_large: 2,
  upstream_unreachable: 2,
  upstream_timeout: 2,
  policy_denied: 3,
  approval_required: 3,
  approval_denied: 3,
  scope_exceeded: 3,
  forbidden: 3,
  agent_disabled: 3,
  resume_limit: 3,
  scope_empty: 3,
  policy_invalid: 3,
  keys_invalid: 3,
  token_missing: 4,
  token_invalid: 4,
  token_expired: 4,
  token_revoked: 4,
  session_unknown: 4,
  session_stale_epoch: 4,
  session_suspended: 4,
  session_closed: 4,
  session_revoked: 4,
  credential_invalid: 4,
  assertion_replayed: 4,
  epoch_conflict: 4,
  idempotency_key_missing: 4,
  idempotency_in_progress: 4,
  idempotency_key_reused: 4,
  outcome_unknown: 4,
  too_many_requests: 2,
  store_unavailable: 5,
  audit_unavailable: 5,
  internal_error: 5,
} as const satisfies Record<AuditEvent['status'], SeverityId>;

// SPEC §13: 1 allowed, 2 blocked, 8 approved, 14 delayed, 25 rejected.
const DISPOSITION_IDS = { allowed: 1, blocked: 2, approved: 8, delayed: 14, rejected: 25 } as const satisfies Record<
  Disposition,
  number
>;

function statusDetail(event: AuditEvent): string {
  if (event.detail !== undefined) return event.detail;
  if (event.status === 'ok') return 'OK';
  if (event.status === 'policy_invalid') return 'The policy revision was refused';
  if (event.status === 'keys_invalid') return 'The signing key file was refused';
  return CATALOGUE[event.status as ErrorCode].title;
}

/** action_id 1 allowed / 2 denied: the gateway's decision, which an upstream failure after an allow does not undo. */
function actionId(event: AuditEvent): 1 | 2 {
  if (event.disposition !== undefined) return event.disposition === 'allowed' || event.disposition === 'approved' ? 1 : 2;
  return event.status === 'ok' ? 1 : 2;
}

/**
 * Builds the record. `unmapped` is the last member and `chain` is added by hash-chain.ts as the last of it.
 * Runs once per audit line on the request path: members are assigned in their documented order (JSON
 * member order is insertion order), with no spreads or intermediate arrays, so the line is built from the
 * fewest objects; the order is part of what is hashed, so it never depends on which optionals are present.
 */
export function toOcsf(event: AuditEvent, meta: OcsfMeta): Record<string, unknown> {
  const activity = activityId(event);
  const status = event.status;
  const record: Record<string, unknown> = {
    class_uid: API_ACTIVITY_CLASS_UID,
    category_uid: APPLICATION_ACTIVITY_CATEGORY_UID,
    activity_id: activity,
    type_uid: API_ACTIVITY_CLASS_UID * 100 + activity,
    time: event.time,
    severity_id: SEVERITY_BY_STATUS[status],
    status_id: status === 'ok' ? 1 : 2,
    status_code: status,
    status_detail: statusDetail(event),
    action_id: actionId(event),
    disposition_id: event.disposition !== undefined ? DISPOSITION_IDS[event.disposition] : status === 'ok' ? 1 : 2,
    metadata: metadataOf(event, meta),
  };
  const actor = actorOf(event);
  if (actor !== undefined) record.actor = actor;
  const api: Record<string, unknown> = { operation: event.event };
  if (event.tool !== undefined) api.service = { name: event.tool };
  record.api = api;
  if (event.srcIp !== undefined) record.src_endpoint = { ip: event.srcIp };
  if (event.method !== undefined || event.path !== undefined) {
    const request: Record<string, unknown> = {};
    if (event.method !== undefined) request.http_method = event.method;
    if (event.path !== undefined) request.url = { path: event.path };
    record.http_request = request;
  }
  if (event.httpStatus !== undefined) record.http_response = { code: event.httpStatus };
  if (event.durationMs !== undefined) record.duration = event.durationMs;
  if (event.traceId !== undefined) record.trace = { uid: event.traceId };
  if (meta.integrity !== undefined) record.attestation_list = [attestationOf(meta.integrity)];
  if (event.actor?.type === 'agent') addAgent(record, event);
  record.unmapped = { epochgate: epochgateOf(event, actor?.authorizations !== undefined) };
  return record;
}

function metadataOf(event: AuditEvent, meta: OcsfMeta): Record<string, unknown> {
  const metadata: Record<string, unknown> = { version: OCSF_VERSION, uid: meta.eventUid };
  if (event.requestId !== undefined) metadata.correlation_uid = event.requestId;
  metadata.sequence = meta.sequence;
  metadata.product = { name: 'epochgate', version: meta.productVersion };
  const agent = event.actor?.type === 'agent';
  const integrity = meta.integrity !== undefined;
  if (agent || integrity) metadata.profiles = agent ? (integrity ? PROFILES_BOTH : PROFILES_AGENT) : PROFILES_INTEGRITY;
  return metadata;
}

/**
 * OCSF 1.9.0 record_integrity `attestation` (objects/attestation.json): chain_uid, and prev_event {uid,
 * type_uid, fingerprint} naming the previous record of the chain, whose fingerprint is its chain hash
 * (SHA-256, the same hex as this record's unmapped.epochgate.chain.prev_hash). The record's own hash is not
 * repeated here: SPEC §13 empties exactly one value, chain.hash, to compute it, so it is written once, last.
 */
function attestationOf(link: ChainLink): Record<string, unknown> {
  const attestation: Record<string, unknown> = { chain_uid: link.chainUid };
  const prev = link.prev;
  if (prev !== undefined) {
    attestation.prev_event = {
      uid: prev.uid,
      type_uid: prev.typeUid,
      fingerprint: { algorithm_id: SHA256_FINGERPRINT_ID, algorithm: 'SHA-256', value: prev.hash },
    };
  }
  return attestation;
}

/** OCSF fingerprint.algorithm_id 3: SHA-256. */
const SHA256_FINGERPRINT_ID = 3;

/**
 * OCSF 1.9.0 ai_operation profile: the actor description says an autonomous AI agent is described by
 * `ai_agent` (uid: the stable agent id; instance_uid: the gateway session, which keeps its id across
 * suspend and resume) rather than by actor alone; actor.user stays as SPEC §13 requires. The gateway
 * session is also the `delegation` (a durable grant, issued by the gateway, not self-asserted by the agent).
 */
function addAgent(record: Record<string, unknown>, event: AuditEvent): void {
  const agent: Record<string, unknown> = { uid: (event.actor as { id: string }).id };
  if (event.sessionId !== undefined) agent.instance_uid = event.sessionId;
  record.ai_agent = agent;
  if (event.sessionId !== undefined) record.delegation = { uid: event.sessionId };
}

function actorOf(event: AuditEvent): Record<string, unknown> | undefined {
  let actor: Record<string, unknown> | undefined;
  if (event.actor) actor = { user: { uid: event.actor.id, type: event.actor.type } };
  if (event.sessionId !== undefined || event.tokenJti !== undefined) {
    const session: Record<string, unknown> = {};
    if (event.sessionId !== undefined) session.uid = event.sessionId;
    if (event.tokenJti !== undefined) session.credential_uid = event.tokenJti;
    (actor ??= {}).session = session;
  }
  const authorizations = event.authorizations;
  if (authorizations && authorizations.length > 0) {
    const mapped: Record<string, unknown>[] = [];
    for (const a of authorizations) {
      // OCSF policy.is_applied: false for shadow rules, which were evaluated but did not decide.
      const policy: Record<string, unknown> = {};
      if (a.ruleId !== null) policy.uid = a.ruleId;
      if (event.policyRevision !== undefined) policy.version = event.policyRevision;
      policy.is_applied = a.shadow !== true;
      mapped.push({ decision: a.decision, policy });
    }
    (actor ??= {}).authorizations = mapped;
  }
  return actor;
}

// Named members first; `extra` cannot override them, and `chain` belongs to hash-chain.ts alone (SPEC §13).
function epochgateOf(event: AuditEvent, hasAuthorizations: boolean): Record<string, unknown> {
  // No prototype: an `extra` key named __proto__ becomes an own data member instead of changing the
  // object's prototype, with plain assignment.
  const epochgate = Object.create(null) as Record<string, unknown>;
  epochgate.event = event.event;
  if (event.epoch !== undefined) epochgate.epoch = event.epoch;
  if (event.taskId !== undefined) epochgate.task_id = event.taskId;
  // Without authorizations (policy.load, gateway.start) the revision has no OCSF home; keep it here.
  if (event.policyRevision !== undefined && !hasAuthorizations) epochgate.policy_revision = event.policyRevision;
  const extra = event.extra;
  if (extra === undefined) return epochgate;
  for (const key of Object.keys(extra)) {
    const value = extra[key];
    if (key === 'chain' || value === undefined || Object.hasOwn(epochgate, key)) continue;
    epochgate[key] = value;
  }
  return epochgate;
}
