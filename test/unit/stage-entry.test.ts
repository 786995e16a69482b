// The stages before and around the fence as units (the gateway-level view is in
// test/integration/data-plane-acceptance.test.ts): route (target and tool), authenticate (one credential,
// never repeated anywhere the upstream would see it), the in-flight limit for MCP messages, and the
// Mcp-Session-Id binding check.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { RequestContext, RouteInfo } from '../../src/pipeline/context.js';
import type { PipelineDeps } from '../../src/pipeline/deps.js';
import { authenticateStage } from '../../src/pipeline/stage-authenticate.js';
import { inflightStage } from '../../src/pipeline/stage-inflight.js';
import { mcpSessionStage } from '../../src/pipeline/stage-mcp-session.js';
import { routeStage } from '../../src/pipeline/stage-route.js';

const TOKEN = 'aaaa.bbbb.cccc';
const billing = { name: 'billing', protocol: 'http' };
const deps = { config: { tools: new Map([['billing', billing]]) }, verifier: { verify: async (token: string) => ({ verified: token }) } } as unknown as PipelineDeps;

function context(url: string, rawHeaders: string[] = [], route?: Partial<RouteInfo>): RequestContext {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] = rawHeaders[i + 1]!;
  const full = route && { tool: billing, segments: [], path: '/', query: '', pathToken: undefined, auditPath: '/tools/billing', ...route };
  return { req: { url, rawHeaders, headers }, ...(full && { route: full }) } as unknown as RequestContext;
}

/** The code and detail a stage refused with. */
async function refusal(run: () => unknown): Promise<{ code: string; detail: string }> {
  try {
    await run();
  } catch (err) {
    if (err instanceof GatewayError) return { code: err.code, detail: err.message };
    throw err;
  }
  throw new Error('the stage did not refuse');
}

describe('routeStage', () => {
  it('records the tool and the parsed target', () => {
    const ctx = context('/s/tok/tools/billing/a/b?x=1');
    routeStage(deps, ctx);
    expect(ctx.route).toEqual({ tool: billing, segments: ['a', 'b'], path: '/a/b', query: '?x=1', pathToken: 'tok', auditPath: '/tools/billing/a/b' });
  });

  it('refuses a repeated security header, a target that is not a tool, and an unknown tool, each with its detail', async () => {
    expect(await refusal(() => routeStage(deps, context('/tools/billing', ['Authorization', 'a', 'authorization', 'b'])))).toEqual({
      code: 'bad_request',
      detail: 'Duplicate Authorization header',
    });
    expect(await refusal(() => routeStage(deps, context('/health')))).toEqual({ code: 'route_not_found', detail: new GatewayError('route_not_found').message });
    expect(await refusal(() => routeStage(deps, context('/tools/crm/x')))).toEqual({ code: 'route_not_found', detail: 'No such tool' });
  });
});

describe('authenticateStage', () => {
  it('verifies the Authorization token, or the path token', async () => {
    const header = context('/', ['Authorization', `Bearer ${TOKEN}`], {});
    await authenticateStage(deps, header);
    expect(header.token).toEqual({ verified: TOKEN });
    const path = context('/', [], { pathToken: TOKEN });
    await authenticateStage(deps, path);
    expect(path.token).toEqual({ verified: TOKEN });
  });

  it('refuses both forms at once', async () => {
    expect(await refusal(() => authenticateStage(deps, context('/', ['Authorization', `Bearer ${TOKEN}`], { pathToken: TOKEN })))).toEqual({
      code: 'bad_request',
      detail: 'Send the token in the Authorization header or in the path, not both',
    });
  });

  const carried = { code: 'bad_request', detail: 'The path, query or a header other than Authorization carries the session token' };
  it.each([
    ['a segment', TOKEN, { segments: ['x', `pre${TOKEN}`] }, []],
    ['the query', TOKEN, { query: `?t=${TOKEN}` }, []],
    ['the query, percent-encoded', TOKEN, { query: '?t=aaaa%2Ebbbb.cccc' }, []],
    ['the query, with + for a space', 'aaaa bbbb', { query: '?t=aaaa+bbbb' }, []],
    ['the query, beside a malformed escape', TOKEN, { query: `?t=${TOKEN}&u=%zz` }, []],
    ['another header', TOKEN, {}, ['X-Forward', `v ${TOKEN}`]],
    ['the last header', TOKEN, {}, ['X-A', 'a', 'X-Forward', TOKEN]],
  ])('refuses the token repeated in %s', async (_where, pathToken, route, rawHeaders) => {
    const ctx = context('/', rawHeaders as string[], { pathToken, ...route });
    expect(await refusal(() => authenticateStage(deps, ctx))).toEqual(carried);
  });

  it('refuses the token repeated in a header after Authorization', async () => {
    const ctx = context('/', ['Authorization', `Bearer ${TOKEN}`, 'X-Forward', TOKEN], {});
    expect(await refusal(() => authenticateStage(deps, ctx))).toEqual(carried);
  });

  it('leaves an empty path token to the verifier (it is in every string, so it is never searched for)', async () => {
    const ctx = context('/', ['X-A', 'b'], { pathToken: '', segments: ['a'], query: '?q' });
    await authenticateStage(deps, ctx);
    expect(ctx.token).toEqual({ verified: '' });
  });

  it('lets through a query with a malformed escape, and a header named Authorization in any case', async () => {
    const ctx = context('/', ['AUTHORIZATION', `Bearer ${TOKEN}`, 'X-A', 'b'], { query: '?t=%zz', segments: ['a'] });
    await authenticateStage(deps, ctx);
    expect(ctx.token).toEqual({ verified: TOKEN });
  });

  it('answers token_missing with no credential at all (an empty token is never searched for)', async () => {
    expect((await refusal(() => authenticateStage(deps, context('/', ['X-A', ''], { query: '?' })))).code).toBe('token_missing');
  });
});

describe('inflightStage', () => {
  const limit = new GatewayError('too_many_requests');
  const inflightDeps = { live: { limitError: () => limit } } as unknown as PipelineDeps;
  it('refuses a message admitted over the limit, and only that', () => {
    expect(() => inflightStage(inflightDeps, { live: { counted: false } } as unknown as RequestContext)).toThrow(limit);
    expect(inflightStage(inflightDeps, { live: { counted: true } } as unknown as RequestContext)).toBeUndefined();
    expect(inflightStage(inflightDeps, {} as unknown as RequestContext)).toBeUndefined();
  });
});

describe('mcpSessionStage', () => {
  const mcp = { name: 'docs', protocol: 'mcp' };
  function setup(bound: string | null, protocol = 'mcp', id: string | null = 'mcp-1') {
    const reads: [string, string][] = [];
    const storeDeps = {
      store: { mcpSessions: { boundSession: async (tool: string, mcpId: string) => (reads.push([tool, mcpId]), bound) } },
    } as unknown as PipelineDeps;
    const ctx = {
      req: { headers: id === null ? {} : { 'mcp-session-id': id } },
      route: { tool: { ...mcp, protocol } },
      session: { sessionId: 'ses_me' },
    } as unknown as RequestContext;
    return { storeDeps, ctx, reads };
  }

  it('records an id bound here, and one nobody bound yet', async () => {
    const here = setup('ses_me');
    await mcpSessionStage(here.storeDeps, here.ctx);
    expect({ mcpSession: here.ctx.mcpSession, reads: here.reads }).toEqual({ mcpSession: { id: 'mcp-1', boundHere: true }, reads: [['docs', 'mcp-1']] });
    const unbound = setup(null);
    await mcpSessionStage(unbound.storeDeps, unbound.ctx);
    expect(unbound.ctx.mcpSession).toEqual({ id: 'mcp-1', boundHere: false });
  });

  it('answers route_not_found for an id bound to another gateway session', async () => {
    const other = setup('ses_other');
    expect(await refusal(() => mcpSessionStage(other.storeDeps, other.ctx))).toEqual({ code: 'route_not_found', detail: 'No such MCP session' });
    expect(other.ctx.mcpSession).toBeUndefined();
  });

  it('reads nothing for a plain HTTP tool or a request without the header', async () => {
    for (const { storeDeps, ctx, reads } of [setup('ses_other', 'http'), setup('ses_other', 'mcp', null)]) {
      await mcpSessionStage(storeDeps, ctx);
      expect({ mcpSession: ctx.mcpSession, reads }).toEqual({ mcpSession: undefined, reads: [] });
    }
  });
});
