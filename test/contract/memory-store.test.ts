import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { openStore } from '../../src/store/open-store.js';
import { describeStoreContract, session } from './store-contract.js';
import { describeApprovalContract } from './approval-contract.js';
import { describeLedgerContract } from './ledger-contract.js';
import { describeMcpSessionContract } from './mcp-session-contract.js';
import { describeAnchorContract } from './anchor-contract.js';
import { describeKeyContract } from './key-contract.js';
import { describeNotificationContract } from './notification-contract.js';
import { describeConsoleSessionContract } from './console-session-contract.js';
import { describeReplicaContract } from './replica-contract.js';
import { describeSessionHistoryContract } from './session-history-contract.js';

describeStoreContract({ name: 'memory', create: async () => new MemoryStore() });
describeApprovalContract({ name: 'memory', create: async () => new MemoryStore() });
describeLedgerContract({ name: 'memory', create: async () => new MemoryStore() });
describeMcpSessionContract({ name: 'memory', create: async () => new MemoryStore() });
describeAnchorContract({ name: 'memory', create: async () => new MemoryStore() });
describeKeyContract({ name: 'memory', create: async () => new MemoryStore() });
describeNotificationContract({ name: 'memory', create: async () => new MemoryStore() });
describeConsoleSessionContract({ name: 'memory', create: async () => new MemoryStore() });
describeReplicaContract({ name: 'memory', create: async () => new MemoryStore() }, { exclusive: false });
describeSessionHistoryContract({ name: 'memory', create: async () => new MemoryStore() });

describe('memory store', () => {
  it('is what openStore returns for kind memory', async () => {
    const store = await openStore({ kind: 'memory' });
    expect(store).toBeInstanceOf(MemoryStore);
    expect(store.kind).toBe('memory');
  });

  it('does not alias the record the caller passed to sessions.create', async () => {
    const store = new MemoryStore();
    const input = { ...session(), scope: ['billing'], metadata: { a: 1 } };
    await store.sessions.create(input);
    input.scope.push('admin');
    input.metadata.a = 2;
    expect(await store.sessions.get('ses_a')).toMatchObject({ scope: ['billing'], metadata: { a: 1 } });
  });

  it('reports a backend failure to onError and throws store_unavailable', async () => {
    const seen: unknown[] = [];
    const store = new MemoryStore({ onError: (err) => seen.push(err) });
    await store.sessions.create(session());
    await expect(store.sessions.create(session({ taskId: 'other' }))).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(seen).toHaveLength(1);
  });
});

describe('memory ledger retention (SPEC §10)', () => {
  const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
  const DAY = 86_400_000;
  let n = 0;
  const reserve = (store: MemoryStore, sessionId: string, now: number) =>
    store.ledger.reserve({
      sessionId, epoch: 1, tool: 'billing', idempotencyKey: null, fingerprint: 'fp', method: 'POST', path: '/p', mcpTool: null,
      attempt: `req_${++n}`, replicaId: 'rep_test', newEntryId: `led_${n}`, now, keyTtlMs: DAY,
    });
  /** What the ledger holds, body included (the interface never lists bodies). */
  const held = (store: MemoryStore) =>
    [...(store.ledger as unknown as { index: { all(): Iterable<{ entry: { checkpointSeq: number; response?: { body: Buffer | null } } }> } }).index.all()]
      .map((s) => ({ w: s.entry.checkpointSeq, body: s.entry.response?.body?.toString() ?? null }));

  it('drops bodies when the window closes or the session becomes final, and the metadata after ledger_retention', async () => {
    const store = new MemoryStore({ ledgerRetentionMs: DAY });
    await store.sessions.create(session());
    for (const now of [T0, T0 + 20]) {
      const r = await reserve(store, 'ses_a', now);
      if (r.kind !== 'forward') throw new Error(r.kind);
      await store.ledger.complete(r.entry.entryId, r.entry.attempt, { status: 201, headers: {}, body: Buffer.from('b'), bodySha256: 'x', bodyBytes: 1, now });
      if (now === T0) await store.sessions.appendCheckpoint({ checkpointId: 'c1', sessionId: 'ses_a', epoch: 1, label: null, state: null, stateDigest: 'x', createdAt: T0 + 10 });
    }
    expect(held(store)).toEqual([{ w: 0, body: null }, { w: 1, body: 'b' }]);
    await store.sessions.transition('ses_a', { from: ['active'], to: 'revoked', reason: 'admin', now: T0 + 30 });
    expect(held(store)).toEqual([{ w: 0, body: null }, { w: 1, body: null }]);
    await store.sessions.create(session({ sessionId: 'ses_b', taskId: 'other' }));
    await reserve(store, 'ses_b', T0 + 20 + DAY);
    expect(held(store)).toEqual([{ w: 1, body: null }, { w: 0, body: null }]);
  });
});
