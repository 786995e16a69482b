import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { openStore } from '../../src/store/open-store.js';
import { describeStoreContract, session } from './store-contract.js';
import { describeApprovalContract } from './approval-contract.js';
import { describeLedgerContract } from './ledger-contract.js';
import { describeMcpSessionContract } from './mcp-session-contract.js';

describeStoreContract({ name: 'memory', create: async () => new MemoryStore() });
describeApprovalContract({ name: 'memory', create: async () => new MemoryStore() });
describeLedgerContract({ name: 'memory', create: async () => new MemoryStore() });
describeMcpSessionContract({ name: 'memory', create: async () => new MemoryStore() });

describe('memory store', () => {
  it('is what openStore returns for kind memory', async () => {
    const store = await openStore({ kind: 'memory' });
    expect(store).toBeInstanceOf(MemoryStore);
    expect(store.kind).toBe('memory');
  });

  it('does not alias the record the caller passed to createSession', async () => {
    const store = new MemoryStore();
    const input = { ...session(), scope: ['billing'], metadata: { a: 1 } };
    await store.createSession(input);
    input.scope.push('admin');
    input.metadata.a = 2;
    expect(await store.getSession('ses_a')).toMatchObject({ scope: ['billing'], metadata: { a: 1 } });
  });

  it('reports a backend failure to onError and throws store_unavailable', async () => {
    const seen: unknown[] = [];
    const store = new MemoryStore({ onError: (err) => seen.push(err) });
    await store.createSession(session());
    await expect(store.createSession(session({ taskId: 'other' }))).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(seen).toHaveLength(1);
  });
});
