// One reservation against the ledger (SPEC §10), turned into what the pipeline does next: forward (with a
// reservation to settle), replay a recorded answer, or refuse with the catalogue error for the case.
import { GatewayError } from '../errors/gateway-error.js';
import type { LedgerEntry, LedgerStore } from '../store/ledger-types.js';
import type { SessionRecord } from '../store/types.js';
import { newId } from '../util/ids.js';

/** SPEC §10: Idempotency-Key records hold for 24 h. */
export const KEY_TTL_MS = 24 * 60 * 60 * 1000;

export interface LedgerCall {
  readonly sessionId: string;
  /** The epoch the request was admitted at (the fence stage); re-checked atomically by the reservation. */
  readonly epoch: number;
  readonly tool: string;
  readonly idempotencyKey: string | null;
  readonly fingerprint: string;
  readonly method: string;
  readonly path: string;
  readonly mcpTool: string | null;
  readonly requestId: string;
  readonly now: number;
}

export type LedgerDecision =
  | { readonly kind: 'forward'; readonly entry: LedgerEntry; readonly occurrence: number }
  | { readonly kind: 'replay'; readonly entry: LedgerEntry; readonly occurrence: number };

export const newLedgerEntryId = (): string => newId('led', 12);

export async function reserveCall(store: LedgerStore, call: LedgerCall): Promise<LedgerDecision> {
  const result = await store.reserve({
    sessionId: call.sessionId,
    epoch: call.epoch,
    tool: call.tool,
    idempotencyKey: call.idempotencyKey,
    fingerprint: call.fingerprint,
    method: call.method,
    path: call.path,
    mcpTool: call.mcpTool,
    attempt: call.requestId,
    newEntryId: newLedgerEntryId(),
    now: call.now,
    keyTtlMs: KEY_TTL_MS,
  });
  switch (result.kind) {
    case 'forward':
    case 'replay':
      return result;
    case 'fenced':
      throw fencedError(result.current, call.epoch);
    case 'in_progress':
      throw new GatewayError('idempotency_in_progress', {
        detail: call.idempotencyKey === null ? 'A matching call from an earlier epoch is still in flight' : 'A request with this key is still in flight',
        fields: { entry_id: result.entry.entryId },
      });
    case 'unknown':
      throw new GatewayError('outcome_unknown', {
        detail: 'The outcome of a matching earlier call is unknown; an admin must resolve the ledger entry',
        fields: { entry_id: result.entry.entryId },
      });
    case 'key_reused':
      throw new GatewayError('idempotency_key_reused', { detail: 'This Idempotency-Key was used for a different request' });
  }
}

/**
 * The session changed between the fence stage and the reservation (a concurrent resume, suspend, close or
 * revoke): the same answers as the fence stage would now give (SPEC §6 steps 5–6).
 */
function fencedError(current: SessionRecord | null, epoch: number): GatewayError {
  if (current === null) return new GatewayError('session_unknown', { bearer: true });
  switch (current.state) {
    case 'suspended':
      return new GatewayError('session_suspended', { bearer: true, detail: 'The session is suspended; resume it to get a new token' });
    case 'closed':
      return new GatewayError('session_closed', { bearer: true });
    case 'revoked':
      return new GatewayError('session_revoked', { bearer: true });
    case 'active':
      return new GatewayError('session_stale_epoch', {
        bearer: true,
        detail: `The token is for epoch ${epoch}; the session is at epoch ${current.epoch}`,
        fields: { resume_required: true },
      });
  }
}
