// The ledger's audit records and the two admin/start-up operations that write them: ledger.replay and
// ledger.unknown carry ids, codes and digests only, the entry's own session and method, and the HTTP side
// only when there was an exchange; recoverLedger makes a stopped replica's in-flight entries unknown, one
// ledger.unknown each; resolveLedgerEntry resolves an unknown entry and refuses anything else exactly.
import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR, type AuditEnvelope } from '../../src/audit/envelope.js';
import type { AuditDraft } from '../../src/audit/audit-draft.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { ledgerReplayEvent, ledgerUnknownEvent } from '../../src/ledger/ledger-events.js';
import { recoverLedger } from '../../src/ledger/recovery.js';
import { resolveLedgerEntry, type ResolveRequest } from '../../src/ledger/resolve.js';
import type { LedgerEntry } from '../../src/store/ledger-types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { call, T0 } from '../contract/ledger-contract.js';
import { session } from '../contract/store-fixtures.js';

const keyed = {
  entryId: 'led_1', sessionId: 'ses_e', kind: 'key', tool: 'billing', idempotencyKey: 'k-1', mcpTool: 'refund', bodySha256: 'ef'.repeat(32),
  occurrence: 1, epoch: 2, state: 'completed', status: 201, method: 'POST', path: '/refunds',
} as LedgerEntry;
const plain = { ...keyed, kind: 'replay', idempotencyKey: null, mcpTool: null, bodySha256: null, occurrence: 3, state: 'done', status: null } as LedgerEntry;
const keyedExtra = { entry_id: 'led_1', ledger_kind: 'key', idempotency_key: 'k-1', mcp_tool: 'refund', body_sha256: 'ef'.repeat(32) };
const envelope: AuditEnvelope = { time: T0, requestId: 'req_9', sessionId: 'ses_env', epoch: 5, method: 'GET', path: '/s/refunds' };

describe('ledger audit records', () => {
  it('ledger.replay of a recorded answer, in an exchange', () => {
    expect(ledgerReplayEvent(keyed, 4, envelope, { httpStatus: 201, durationMs: 12 })).toStrictEqual({
      event: 'ledger.replay', time: T0, requestId: 'req_9', sessionId: 'ses_e', epoch: 5, method: 'POST', path: '/s/refunds',
      status: 'ok', disposition: 'allowed', tool: 'billing', httpStatus: 201, durationMs: 12,
      extra: { ...keyedExtra, occurrence: 4, recorded_epoch: 2, recorded_status: 201 },
    } satisfies AuditEvent);
  });

  it('ledger.replay of an entry resolved done, without an exchange or an envelope epoch', () => {
    expect(ledgerReplayEvent(plain, 3, { time: T0 })).toStrictEqual({
      event: 'ledger.replay', time: T0, sessionId: 'ses_e', epoch: 2, status: 'ok', disposition: 'allowed', tool: 'billing',
      extra: { http_method: 'POST', tool_path: '/refunds', entry_id: 'led_1', ledger_kind: 'replay', occurrence: 3, recorded_epoch: 2, resolution: 'done' },
    } satisfies AuditEvent);
  });

  it('ledger.unknown, with and without an exchange', () => {
    expect(ledgerUnknownEvent(keyed, 'upstream_timeout', envelope, { httpStatus: 504, durationMs: 30 })).toStrictEqual({
      event: 'ledger.unknown', time: T0, requestId: 'req_9', sessionId: 'ses_e', epoch: 5, method: 'POST', path: '/s/refunds',
      status: 'outcome_unknown', disposition: 'delayed', tool: 'billing', httpStatus: 504, durationMs: 30,
      extra: { ...keyedExtra, reason: 'upstream_timeout', occurrence: 1, recorded_epoch: 2 },
    } satisfies AuditEvent);
    expect(ledgerUnknownEvent(plain, 'gateway_restart', { time: T0, actor: SYSTEM_ACTOR })).toStrictEqual({
      event: 'ledger.unknown', time: T0, actor: SYSTEM_ACTOR, sessionId: 'ses_e', epoch: 2, status: 'outcome_unknown', disposition: 'delayed', tool: 'billing',
      extra: { http_method: 'POST', tool_path: '/refunds', entry_id: 'led_1', ledger_kind: 'replay', reason: 'gateway_restart', occurrence: 3, recorded_epoch: 2 },
    } satisfies AuditEvent);
  });
});

async function storeWithSession(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.sessions.create(session({ taskId: 'task-7', epoch: 1 }));
  return store;
}

describe('recoverLedger', () => {
  it('makes a stopped replica’s in-flight entries unknown, one ledger.unknown each at the clock time', async () => {
    const store = await storeWithSession();
    await store.replicas.register('rep_live', T0);
    const gone = [
      await store.ledger.reserve(call({ replicaId: 'rep_gone', fingerprint: 'a' })),
      await store.ledger.reserve(call({ replicaId: 'rep_gone', fingerprint: 'b' })),
    ];
    const live = await store.ledger.reserve(call({ replicaId: 'rep_live', fingerprint: 'c' }));
    const liveAt = live.kind === 'forward' ? live.entry.updatedAt : 0;
    const written: AuditEvent[] = [];
    const audit = { write: (e: AuditEvent) => void written.push(e), close: () => undefined };
    expect(await recoverLedger(store, audit, new ManualClock(T0 + 9_000))).toBe(2);
    const ids = gone.map((r) => (r.kind === 'forward' ? r.entry.entryId : ''));
    expect(written.map((e) => [e.event, e.time, e.actor, e.status, e.extra?.['entry_id'], e.extra?.['reason']])).toStrictEqual(
      ids.map((id) => ['ledger.unknown', T0 + 9_000, SYSTEM_ACTOR, 'outcome_unknown', id, 'gateway_restart']),
    );
    expect((await store.ledger.list('ses_a', T0)).map((e) => [e.state, e.updatedAt])).toStrictEqual([['unknown', T0 + 9_000], ['unknown', T0 + 9_000], ['in_flight', liveAt]]);
    expect(await recoverLedger(store, audit, new ManualClock(T0 + 9_500))).toBe(0);
    expect(written.length).toBe(2);
  });
});

describe('resolveLedgerEntry', () => {
  const draft = (): { requestId: string; audit: AuditDraft } => ({ requestId: 'req_a', audit: { event: null, extra: {} } });
  const request = (over: Partial<ResolveRequest> = {}): ResolveRequest => ({ sessionId: 'ses_a', entryId: 'led_x', outcome: 'done', by: 'admin@x', now: T0 + 50, ...over });

  async function unknownEntry(store: MemoryStore): Promise<LedgerEntry> {
    const r = await store.ledger.reserve(call({ epoch: 1 }));
    if (r.kind !== 'forward') throw new Error('not reserved');
    await store.ledger.markUnknown(r.entry.entryId, r.entry.attempt, 'upstream_reset', T0 + 10);
    return r.entry;
  }

  async function refused(run: Promise<unknown>): Promise<unknown[]> {
    const err = await run.then(() => undefined, (e: unknown) => e);
    if (!(err instanceof GatewayError)) throw new Error('not refused');
    return [err.code, err.message, err.fields];
  }

  it('resolves an unknown entry and notes the task, previous state and epoch for the audit', async () => {
    const store = await storeWithSession();
    const entry = await unknownEntry(store);
    const trail = draft();
    const resolved = await resolveLedgerEntry(store, request({ entryId: entry.entryId, outcome: 'retry' }), trail);
    const { kind, previous, entry: { state, resolvedBy, updatedAt } } = resolved;
    expect([kind, previous, state, resolvedBy, updatedAt]).toStrictEqual(['resolved', 'unknown', 'retry', 'admin@x', T0 + 50]);
    expect(Object.keys(resolved).sort()).toStrictEqual(['entry', 'kind', 'previous']);
    expect(trail.audit).toStrictEqual({ event: null, extra: { previous_state: 'unknown' }, taskId: 'task-7', epoch: 1 });
  });

  it('refuses an unknown session, touching nothing', async () => {
    const trail = draft();
    expect(await refused(resolveLedgerEntry(await storeWithSession(), request({ sessionId: 'ses_nope' }), trail))).toStrictEqual(['session_not_found', 'No such session', {}]);
    expect(trail.audit).toStrictEqual({ event: null, extra: {} });
  });

  it('refuses an entry the session does not have, and one that is not unknown', async () => {
    const store = await storeWithSession();
    const trail = draft();
    expect(await refused(resolveLedgerEntry(store, request(), trail))).toStrictEqual(['route_not_found', 'No such ledger entry in this session', {}]);
    const r = await store.ledger.reserve(call({ epoch: 1 }));
    const id = r.kind === 'forward' ? r.entry.entryId : '';
    expect(await refused(resolveLedgerEntry(store, request({ entryId: id }), trail))).toStrictEqual([
      'invalid_request',
      'The entry is in_flight; only an unknown entry (or a retry not yet used) can be resolved',
      { errors: [{ path: 'outcome', message: 'entry state is in_flight' }], entry_id: id },
    ]);
    expect(trail.audit).toStrictEqual({ event: null, extra: {}, taskId: 'task-7' });
  });
});
