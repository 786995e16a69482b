// The classify stage as a unit: the HTTP-level deny for an MCP tool before its body is read, the action it
// records, and the audit members it adds. Body reading and MCP parsing are tested in their own files.
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { PipelineDeps } from '../../src/pipeline/deps.js';
import { classifyStage } from '../../src/pipeline/stage-classify.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import { sha256Hex } from '../../src/util/hash.js';
import { basePolicy, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';

const RULES = `  - id: no-admin
    effect: deny
    tools: [billing, docs]
    paths: ["/admin/**"]
  - id: all
    effect: allow
    tools: [billing, docs]
`;

let policy: PolicySnapshot;
beforeAll(async () => {
  policy = await loadPolicyDir(writePolicyDir({ 'main.yaml': basePolicy(RULES) }), { now: 0, toolNames: new Set(['billing', 'docs']) });
});

const deps = {} as PipelineDeps;
function context(method: string | undefined, path: string, body: string, protocol: 'http' | 'mcp' = 'http', headers: Record<string, string> = {}) {
  const req = Object.assign(Readable.from(body === '' ? [] : [Buffer.from(body)]), {
    method,
    headers: { ...(body !== '' && { 'content-length': String(Buffer.byteLength(body)) }), ...headers },
  });
  const ctx = {
    req,
    policy,
    agent: policy.agents.get('bot'),
    route: { tool: { name: protocol === 'mcp' ? 'docs' : 'billing', protocol, maxBodyBytes: 1024 }, path },
    auditExtra: {},
  } as unknown as RequestContext;
  return { ctx, req };
}

describe('classifyStage', () => {
  it('records a plain HTTP call with its body and the body digest', async () => {
    const { ctx } = context('post', '/invoices', '{"a":1}');
    await classifyStage(deps, ctx);
    const sha = sha256Hex(Buffer.from('{"a":1}'));
    expect(ctx.action).toEqual({ method: 'POST', path: '/invoices', body: Buffer.from('{"a":1}'), bodySha256: sha, mcpTool: undefined });
    expect(ctx.auditExtra).toStrictEqual({ body_sha256: sha });
    expect(ctx.mcpMessage).toBeUndefined();
  });

  it('records a call without a body or a method as a GET with no digest', async () => {
    const { ctx } = context(undefined, '/invoices', '');
    await classifyStage(deps, ctx);
    expect(ctx.action).toEqual({ method: 'GET', path: '/invoices', body: null, bodySha256: undefined, mcpTool: undefined });
    expect(ctx.auditExtra).toStrictEqual({});
  });

  it('leaves a plain HTTP deny to the authorize stage', async () => {
    const { ctx } = context('GET', '/admin/x', '');
    await classifyStage(deps, ctx);
    expect([ctx.decision, ctx.action?.path]).toEqual([undefined, '/admin/x']);
  });

  it('parses an MCP POST and audits its method and tool', async () => {
    const body = '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search","arguments":{}}}';
    const { ctx } = context('POST', '/', body, 'mcp');
    await classifyStage(deps, ctx);
    expect([ctx.mcpMessage?.method, ctx.mcpMessage?.toolName, ctx.action?.mcpTool]).toEqual(['tools/call', 'search', 'search']);
    expect(ctx.auditExtra).toStrictEqual({ mcp_method: 'tools/call', body_sha256: sha256Hex(Buffer.from(body)), mcp_tool: 'search' });
  });

  it('audits no method or tool for a JSON-RPC response, and parses nothing on a GET', async () => {
    const response = '{"jsonrpc":"2.0","id":7,"result":{}}';
    const posted = context('POST', '/', response, 'mcp');
    await classifyStage(deps, posted.ctx);
    expect(posted.ctx.auditExtra).toStrictEqual({ body_sha256: sha256Hex(Buffer.from(response)) });
    const get = context('GET', '/', '', 'mcp');
    await classifyStage(deps, get.ctx);
    expect([get.ctx.mcpMessage, get.ctx.action?.body]).toEqual([undefined, null]);
  });

  it('checks the Mcp-Method header against the body', async () => {
    const body = '{"jsonrpc":"2.0","id":7,"method":"tools/list"}';
    const { ctx } = context('POST', '/', body, 'mcp', { 'mcp-method': 'tools/call' });
    await expect(classifyStage(deps, ctx)).rejects.toMatchObject({ code: 'bad_request', message: 'The Mcp-Method header does not match the JSON-RPC method' });
  });

  it('refuses an MCP call the HTTP rules deny before reading its body, keeping the decision', async () => {
    const { ctx, req } = context('POST', '/admin/x', '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', 'mcp');
    const err = await classifyStage(deps, ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GatewayError);
    expect([(err as GatewayError).code, (err as GatewayError).fields]).toEqual(['policy_denied', { rule_id: 'no-admin' }]);
    expect([ctx.decision?.effect, ctx.decision?.rule?.id, ctx.action, req.readableEnded]).toEqual(['deny', 'no-admin', undefined, false]);
  });
});
