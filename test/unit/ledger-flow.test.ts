// reserveCall turns one store reservation into what the pipeline does next: the request id owns the
// reservation, a new entry gets a fresh led_ id, a key lives 24 h; forward and replay are handed on as the
// store said; every other answer is the catalogue refusal for its case, with the entry id where there is one.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { KEY_TTL_MS, reserveCall, type LedgerCall } from '../../src/ledger/ledger-flow.js';
import type { LedgerEntry, LedgerStore, ReserveRequest, ReserveResult } from '../../src/store/ledger-types.js';
import { session } from '../contract/store-fixtures.js';

const ENTRY = { entryId: 'led_seen', state: 'in_flight' } as LedgerEntry;

const ledgerCall = (over: Partial<LedgerCall> = {}): LedgerCall => ({
  requestId: 'req_7',
  sessionId: 'ses_a',
  epoch: 3,
  tool: 'billing',
  idempotencyKey: null,
  fingerprint: 'fp',
  method: 'POST',
  path: '/refunds',
  mcpTool: null,
  replicaId: 'rep_a',
  now: 1_000,
  ...over,
});

/** A store whose reserve answers `result` and keeps what it was asked. */
function answering(result: ReserveResult): { store: LedgerStore; asked: ReserveRequest[] } {
  const asked: ReserveRequest[] = [];
  const store = { reserve: (r: ReserveRequest) => (asked.push(r), Promise.resolve(result)) } as unknown as LedgerStore;
  return { store, asked };
}

async function refusal(result: ReserveResult, over: Partial<LedgerCall> = {}): Promise<unknown[]> {
  const err = await reserveCall(answering(result).store, ledgerCall(over)).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GatewayError)) throw new Error('not refused');
  return [err.code, err.message, err.fields];
}

describe('reserveCall', () => {
  it('reserves for the request id, under a fresh entry id, with a 24 h key lifetime', async () => {
    expect(KEY_TTL_MS).toBe(86_400_000);
    const forward: ReserveResult = { kind: 'forward', entry: ENTRY, occurrence: 2 };
    const { store, asked } = answering(forward);
    expect(await reserveCall(store, ledgerCall())).toBe(forward);
    const [{ newEntryId, ...request }] = asked as [ReserveRequest];
    expect(newEntryId).toMatch(/^led_[A-Za-z0-9_-]{16}$/);
    expect(request).toStrictEqual({
      sessionId: 'ses_a', epoch: 3, tool: 'billing', idempotencyKey: null, fingerprint: 'fp', method: 'POST', path: '/refunds',
      mcpTool: null, replicaId: 'rep_a', now: 1_000, attempt: 'req_7', keyTtlMs: 86_400_000,
    });
  });

  it('hands a replay on as the store gave it', async () => {
    const replay: ReserveResult = { kind: 'replay', entry: ENTRY, occurrence: 1 };
    expect(await reserveCall(answering(replay).store, ledgerCall())).toBe(replay);
  });

  it('answers a fence as the fence stage would now', async () => {
    expect(await refusal({ kind: 'fenced', current: null })).toStrictEqual(['session_unknown', 'The token names no session', {}]);
    expect(await refusal({ kind: 'fenced', current: session({ epoch: 4 }) })).toStrictEqual([
      'session_stale_epoch',
      'The token is for epoch 3; the session is at epoch 4',
      { resume_required: true, current_epoch: 4 },
    ]);
    // Active at the very epoch: the store fenced for a reason the session no longer shows.
    expect(await refusal({ kind: 'fenced', current: session({ epoch: 3 }) })).toStrictEqual(['internal_error', 'Internal error', {}]);
  });

  // A match in flight (with or without a key), an unknown outcome, and a key reused for another request.
  it.each([
    ['in_progress', undefined, 'idempotency_in_progress', 'A matching call from an earlier epoch is still in flight', { entry_id: 'led_seen' }],
    ['in_progress', 'k', 'idempotency_in_progress', 'A request with this key is still in flight', { entry_id: 'led_seen' }],
    ['unknown', undefined, 'outcome_unknown', 'The outcome of a matching earlier call is unknown; an admin must resolve the ledger entry', { entry_id: 'led_seen' }],
    ['key_reused', 'k', 'idempotency_key_reused', 'This Idempotency-Key was used for a different request', {}],
  ] as const)('refuses a %s match (key %s) with %s, its detail and fields', async (kind, key, code, detail, fields) => {
    const options = key === undefined ? undefined : { idempotencyKey: key };
    expect(await refusal({ kind, entry: ENTRY }, options)).toStrictEqual([code, detail, fields]);
  });
});
