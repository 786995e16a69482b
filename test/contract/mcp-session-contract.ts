// The MCP session binding part of the Store contract (SPEC §11, DESIGN rules 7 and 10): every backend runs these.
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import { session, type ContractBackend } from './store-contract.js';
import { storePerTest } from './store-fixtures.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const binding = (sessionId: string, over: { tool?: string; mcpSessionId?: string } = {}) => ({
  tool: 'crm',
  mcpSessionId: 'mcp-1',
  sessionId,
  createdAt: T0,
  ...over,
});

export function describeMcpSessionContract(backend: ContractBackend): void {
  describe(`Store contract: ${backend.name} MCP session bindings`, () => {
    let store: Store;
    const { extra } = storePerTest(backend, async (opened) => {
      store = opened;
      for (const id of ['ses_a', 'ses_b']) {
        const created = await store.sessions.create(session({ sessionId: id, taskId: `task-${id}` }));
        if (!created.ok) throw new Error('fixture session not created');
      }
    });

    it('reports an unbound id as null', async () => {
      expect(await store.mcpSessions.boundSession('crm', 'mcp-1')).toBeNull();
    });

    it('binds an id to the first session that records it; a later binding does not replace it', async () => {
      expect(await store.mcpSessions.bind(binding('ses_a'))).toBe('ses_a');
      expect(await store.mcpSessions.bind(binding('ses_b'))).toBe('ses_a');
      expect(await store.mcpSessions.bind(binding('ses_a'))).toBe('ses_a');
      expect(await store.mcpSessions.boundSession('crm', 'mcp-1')).toBe('ses_a');
    });

    it('lets exactly one of two concurrent bindings win', async () => {
      const results = await Promise.all([store.mcpSessions.bind(binding('ses_a')), store.mcpSessions.bind(binding('ses_b'))]);
      expect(results[0]).toBe(results[1]);
      expect(await store.mcpSessions.boundSession('crm', 'mcp-1')).toBe(results[0]);
    });

    it('keys bindings by tool and id', async () => {
      await store.mcpSessions.bind(binding('ses_a'));
      expect(await store.mcpSessions.bind(binding('ses_b', { tool: 'other' }))).toBe('ses_b');
      expect(await store.mcpSessions.bind(binding('ses_b', { mcpSessionId: 'mcp-2' }))).toBe('ses_b');
      expect(await store.mcpSessions.boundSession('crm', 'mcp-1')).toBe('ses_a');
      expect(await store.mcpSessions.boundSession('other', 'mcp-1')).toBe('ses_b');
      expect(await store.mcpSessions.boundSession('crm', 'MCP-1')).toBeNull();
    });

    it('remembers whether the first binding\'s client declared URL-mode elicitation; a later binding does not change it', async () => {
      expect(await store.mcpSessions.urlElicitation('crm', 'mcp-1')).toBe(false);
      await store.mcpSessions.bind({ ...binding('ses_a'), urlElicitation: true });
      await store.mcpSessions.bind({ ...binding('ses_a', { mcpSessionId: 'mcp-2' }) });
      await store.mcpSessions.bind({ ...binding('ses_b', { mcpSessionId: 'mcp-2' }), urlElicitation: true });
      expect(await store.mcpSessions.urlElicitation('crm', 'mcp-1')).toBe(true);
      expect(await store.mcpSessions.urlElicitation('crm', 'mcp-2')).toBe(false);
      expect(await store.mcpSessions.urlElicitation('other', 'mcp-1')).toBe(false);
    });

    if (backend.openPeer !== undefined) it('keeps bindings across a reopen, and a peer cannot rebind them', async () => {
      await store.mcpSessions.bind(binding('ses_a'));
      const peer = await backend.openPeer!();
      extra.push(peer);
      expect(await peer.mcpSessions.boundSession('crm', 'mcp-1')).toBe('ses_a');
      expect(await peer.mcpSessions.bind(binding('ses_b'))).toBe('ses_a');
    });
  });
}
