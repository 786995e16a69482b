// The action digest of a request (src/pipeline/action-digest.ts): which request facts go into it, and that it
// is computed once per request. The digest itself is tested in approval-digest.test.ts.
import { describe, expect, it } from 'vitest';
import { actionDigest } from '../../src/approvals/digest.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import { actionDigestOf } from '../../src/pipeline/action-digest.js';

function context(over: { mcpMethod?: string; mcpTool?: string; body?: string } = {}) {
  return {
    req: { headers: { 'content-type': 'application/json' } },
    route: { tool: { name: 'billing' }, query: '?page=2' },
    action: { method: 'POST', path: '/invoices', body: Buffer.from(over.body ?? '{"amount": 10}'), mcpTool: over.mcpTool },
    ...(over.mcpMethod !== undefined && { mcpMessage: { method: over.mcpMethod } }),
  } as unknown as RequestContext & { action: { mcpTool?: string } };
}

describe('actionDigestOf', () => {
  it('digests the tool, method, path, query, body and content type of a plain HTTP call', () => {
    expect(actionDigestOf(context())).toBe(
      actionDigest({ tool: 'billing', method: 'POST', path: '/invoices', query: '?page=2', body: Buffer.from('{"amount": 10}'), contentType: 'application/json', mcpTool: undefined, mcpMethod: undefined }),
    );
  });

  it('adds the JSON-RPC method and the MCP tool name of an MCP message', () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"pay","arguments":{"a":1}}}';
    const facts = { tool: 'billing', method: 'POST', path: '/invoices', query: '?page=2', body: Buffer.from(body), contentType: 'application/json' };
    expect(actionDigestOf(context({ mcpMethod: 'tools/call', mcpTool: 'pay', body }))).toBe(actionDigest({ ...facts, mcpTool: 'pay', mcpMethod: 'tools/call' }));
    const list = '{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"x"}}';
    expect(actionDigestOf(context({ mcpMethod: 'resources/read', body: list }))).toBe(
      actionDigest({ ...facts, body: Buffer.from(list), mcpTool: undefined, mcpMethod: 'resources/read' }),
    );
  });

  it('computes the digest once per request', () => {
    const ctx = context();
    const first = actionDigestOf(ctx);
    (ctx as { action: unknown }).action = { ...ctx.action, path: '/other' };
    expect(actionDigestOf(ctx)).toBe(first);
    expect(actionDigestOf(context({ body: '{"amount": 11}' }))).not.toBe(first);
  });
});
