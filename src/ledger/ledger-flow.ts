// One reservation against the ledger (SPEC §10), turned into what the pipeline does next: forward (with a
// reservation to settle), replay a recorded answer, or refuse with the catalogue error for the case.
import { GatewayError } from '../errors/gateway-error.js';
import type { LedgerEntry, LedgerStore, ReserveRequest } from '../store/ledger-types.js';
import { newId } from '../util/ids.js';
import { sessionRefusal } from '../sessions/session-access.js';

/** SPEC §10: Idempotency-Key records hold for 24 h. */
export const KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** A reservation as the pipeline states it: the request id is the reservation's owner (`attempt`); the
 *  entry id and the key lifetime are filled in here. */
export type LedgerCall = Omit<ReserveRequest, 'attempt' | 'newEntryId' | 'keyTtlMs'> & { readonly requestId: string };

export type LedgerDecision =
  | { readonly kind: 'forward'; readonly entry: LedgerEntry; readonly occurrence: number }
  | { readonly kind: 'replay'; readonly entry: LedgerEntry; readonly occurrence: number };

export const newLedgerEntryId = (): string => newId('led', 12);

export async function reserveCall(store: LedgerStore, call: LedgerCall): Promise<LedgerDecision> {
  const { requestId, ...request } = call;
  const result = await store.reserve({ ...request, attempt: requestId, newEntryId: newLedgerEntryId(), keyTtlMs: KEY_TTL_MS });
  switch (result.kind) {
    case 'forward':
    case 'replay':
      return result;
    case 'fenced':
      // The session changed between the fence stage and the reservation: answer as the fence would now.
      throw sessionRefusal(result.current, call.epoch) ?? new GatewayError('internal_error');
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

