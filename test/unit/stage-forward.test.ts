// The forward stage as a unit (harness: test/helpers/forward-stage.ts): what the tool is sent (URL, body,
// forwarding and identity headers as the stage reads them from the request), the lease renewal before it,
// which forward form a call takes (plain stream, MCP stream with SSE list filtering, buffered MCP answer),
// whether the upstream follows the live call's signal when the call is fenced, the audit's `fenced` member,
// the ledger entry settled from the outcome, and the Mcp-Session-Id bound after a streamed MCP answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { asGatewayError } from '../../src/errors/problem.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import { basePolicy, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';
import { cleanups, type Reply } from '../helpers/forward-front.js';
import { NOW, SESSION, StageHarness } from '../helpers/forward-stage.js';

// No rule allows the HTTP tools: a list relayed for one unfiltered was not vetted at all (the stage does
// not decide; a list filter wrongly applied to an HTTP tool would remove every item).
const RULES = `  - id: search
    effect: allow
    tools: [docs]
    mcp_tools: ["search_*"]
  - id: summaries
    effect: allow
    tools: [docs]
    mcp_prompts: ["summarise_*"]
`;
const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const LIST = '{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"search_a"},{"name":"drop_b"}]}}';
const KEPT = '{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"search_a"}]}}';

let policy: PolicySnapshot;
beforeAll(async () => {
  policy = await loadPolicyDir(writePolicyDir({ 'main.yaml': basePolicy(RULES) }), { now: 0, toolNames: new Set(['billing', 'docs', 'gone']) });
});

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const harness = (): Promise<StageHarness> => new StageHarness(policy).start(cleanups);
const answer = (type: string, body: string, headers: Record<string, string> = {}) => (_req: IncomingMessage, res: ServerResponse) =>
  void res.writeHead(200, { 'content-type': type, ...headers }).end(body);
const replied = (run: { reply: Reply | Error }): [number, string] => [(run.reply as Reply).status, (run.reply as Reply).body.toString()];

/** The tool takes the request and answers only once released (200 "late"); `reached` when it has it.
 *  With `flush`, its response headers go out at once. */
function holdTool(h: StageHarness, type = 'text/plain', flush = false) {
  let release!: () => void;
  let reached!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const got = new Promise<void>((r) => (reached = r));
  h.tool = (_req, res) => {
    res.writeHead(200, { 'content-type': type });
    if (flush) res.flushHeaders();
    reached();
    void gate.then(() => res.end('late'));
  };
  return { reached: got, release };
}

/** What the tool was told about the caller. */
const identity = (headers: IncomingMessage['headers']) => ({
  for: headers['x-forwarded-for'], proto: headers['x-forwarded-proto'], host: headers['x-forwarded-host'], trace: headers.traceparent,
  session: headers['x-epochgate-session'], epoch: headers['x-epochgate-epoch'], agent: headers['x-epochgate-agent'], id: headers['x-request-id'],
});

describe('forwardStage: the request the tool gets', () => {
  it('forwards a plain HTTP call and records its status, outcome and upstream time', async () => {
    const h = await harness();
    h.tool = (_req, res) => void res.writeHead(201, { 'content-type': 'application/json', 'mcp-session-id': 'm-http' }).end('{"ok":true}');
    const run = await h.call({ body: '{"a":1}', headers: { traceparent: TRACE } });
    expect([run.error, ...replied(run)]).toEqual([undefined, 201, '{"ok":true}']);
    expect(h.seen.map((s) => [s.method, s.url, s.body])).toEqual([['POST', '/api/a%2Fb/c?q=1', '{"a":1}']]);
    expect(identity(h.seen[0]!.headers)).toEqual({
      for: '127.0.0.1', proto: 'http', host: `127.0.0.1:${h.port}`, trace: TRACE, session: 'ses_1', epoch: '2', agent: 'bot', id: 'req_1',
    });
    expect([run.ctx.forwarded?.status, run.ctx.forwarded?.outcome]).toEqual([201, 'ok']);
    expect(h.observed).toEqual([run.ctx.forwarded!.upstreamMs / 1000]);
    expect(run.ctx.auditExtra).toStrictEqual({});
    // An HTTP tool's Mcp-Session-Id means nothing to the gateway; a lease not yet due is not rewritten.
    expect(await h.store.mcpSessions.boundSession('billing', 'm-http')).toBe(null);
    expect((await h.store.sessions.get('ses_1'))?.leaseExpiresAt).toBe(SESSION.leaseExpiresAt);
  });

  it('takes the scheme, client address and traceparent from the socket and headers the request has', async () => {
    const h = await harness();
    const tls = await h.call({ req: (req) => ({ socket: { encrypted: true } as never, headers: { ...req.headers, traceparent: TRACE } }) });
    const plain = await h.call({ req: (req) => ({ socket: { encrypted: false, remoteAddress: '10.0.0.9' } as never, headers: { ...req.headers, traceparent: [TRACE, 'x'] as never } }) });
    expect([tls.error, plain.error]).toEqual([undefined, undefined]);
    expect(h.seen.map((s) => [s.headers['x-forwarded-for'], s.headers['x-forwarded-proto'], s.headers.traceparent])).toEqual([
      [undefined, 'https', TRACE],
      ['10.0.0.9', 'http', TRACE],
    ]);
  });

  it('renews a lease that is due, and refuses a session changed since the fence without calling the tool', async () => {
    const h = await harness();
    await h.call({ session: { leaseExpiresAt: NOW + 1000 } });
    expect((await h.store.sessions.get('ses_1'))?.leaseExpiresAt).toBe(NOW + policy.sessions.leaseTtlMs);
    const stale = await h.call({ session: { leaseExpiresAt: NOW, epoch: 1 } });
    expect([asGatewayError(stale.error).code, h.seen.length]).toEqual(['session_stale_epoch', 1]);
  });
});

describe('forwardStage: fencing a call in flight', () => {
  it('lets a plain HTTP forward follow the live call: fencing aborts the tool and answers the refusal', async () => {
    const h = await harness();
    const { reached, release } = holdTool(h);
    const running = h.call({ live: true });
    const ctx = await h.context;
    await reached;
    const reason = new GatewayError('session_suspended');
    ctx.live!.end(reason);
    expect(ctx.res.destroyed).toBe(false);
    release();
    const run = await running;
    expect(run.error).toBe(reason);
    expect(replied(run)).toEqual([401, '']);
    expect([run.ctx.auditExtra, run.ctx.forwarded]).toStrictEqual([{ fenced: 'session_suspended' }, undefined]);
  });

  it('lets a ledger capture read on when fenced: the client is cut off, the outcome is still recorded', async () => {
    const h = await harness();
    const { reached, release } = holdTool(h);
    const running = h.call({ live: true, ledger: true });
    const ctx = await h.context;
    await reached;
    ctx.live!.end(new Error('shutdown'));
    expect(ctx.res.destroyed).toBe(true);
    release();
    const run = await running;
    expect([run.error, (run.reply as Error).message]).toEqual([undefined, 'socket hang up']);
    expect(run.ctx.auditExtra).toStrictEqual({ fenced: 'shutdown' });
    expect((await h.store.ledger.list('ses_1', NOW)).map((e) => [e.state, e.status])).toEqual([['completed', 200]]);
  });

  it('cuts the client off at once for a buffered MCP answer, which does not follow the signal', async () => {
    const h = await harness();
    const { reached, release } = holdTool(h, 'application/json');
    const running = h.call({ tool: 'docs', message: 'tools/list', live: true });
    const ctx = await h.context;
    await reached;
    ctx.live!.end(new GatewayError('session_closed'));
    expect(ctx.res.destroyed).toBe(true);
    release();
    const run = await running;
    expect([(run.reply as Error).message, run.ctx.auditExtra]).toEqual(['socket hang up', { fenced: 'session_closed' }]);
  });

  it('refuses a call ended before it reached the tool with the reason, and audits no fence', async () => {
    const h = await harness();
    const reason = new GatewayError('session_revoked');
    const run = await h.call({ live: true, endBefore: reason });
    expect([run.error, h.seen.length, run.ctx.auditExtra]).toStrictEqual([reason, 0, {}]);
  });

  it('says it is forwarding while a streamed answer is open to the client', async () => {
    const h = await harness();
    const { reached, release } = holdTool(h, 'text/event-stream', true);
    const running = h.call({ live: true });
    const ctx = await h.context;
    await reached;
    while (!ctx.res.headersSent) await new Promise((r) => setImmediate(r));
    expect([ctx.live!.isOpenStream, ctx.live!.isHeld]).toEqual([true, false]);
    release();
    expect(replied(await running)).toEqual([200, 'late']);
  });
});

describe('forwardStage: the ledger entry', () => {
  it('records a relayed answer as completed', async () => {
    const h = await harness();
    h.tool = answer('text/plain', 'done');
    const run = await h.call({ ledger: true });
    expect(replied(run)).toEqual([200, 'done']);
    expect((await h.store.ledger.list('ses_1', NOW)).map((e) => [e.state, e.status, e.bodyBytes])).toEqual([['completed', 200, 4]]);
  });

  it('releases the entry when the tool was never reached', async () => {
    const h = await harness();
    const run = await h.call({ tool: 'gone', ledger: true });
    expect([asGatewayError(run.error).code, (run.reply as Reply).status]).toEqual(['upstream_unreachable', 502]);
    expect(await h.store.ledger.list('ses_1', NOW)).toEqual([]);
  });

  it('marks the entry unknown when the tool fails mid-body', async () => {
    const h = await harness();
    h.tool = (_req, res) => {
      res.writeHead(200, { 'content-length': '10' });
      res.write('abc', () => res.destroy());
    };
    const run = await h.call({ ledger: true });
    expect([run.error, run.ctx.forwarded?.outcome, h.unknowns]).toEqual([undefined, 'aborted_after_response', [['aborted_mid_response', 200]]]);
    expect((await h.store.ledger.list('ses_1', NOW)).map((e) => [e.state, e.unknownReason])).toEqual([['unknown', 'aborted_mid_response']]);
  });
});

describe('forwardStage: MCP tools', () => {
  it('binds the Mcp-Session-Id of a streamed MCP answer once relayed, and logs a binding that fails', async () => {
    const h = await harness();
    h.tool = answer('application/json', '{}', { 'mcp-session-id': 'm-1' });
    expect((await h.call({ tool: 'docs', message: 'tools/call' })).error).toBe(undefined);
    expect(await h.store.mcpSessions.boundSession('docs', 'm-1')).toBe('ses_1');
    const failure = new Error('store down');
    h.store.mcpSessions.bind = () => Promise.reject(failure);
    const run = await h.call({ tool: 'docs', message: 'tools/call' });
    expect([run.error, ...replied(run)]).toEqual([undefined, 200, '{}']);
    expect(h.logged).toEqual([[{ err: failure, request_id: 'req_1' }, 'MCP session binding failed']]);
  });

  it('filters the lists in an MCP tool SSE answer event by event, and relays an HTTP tool SSE untouched', async () => {
    const h = await harness();
    h.tool = answer('text/event-stream', `data: ${LIST}\n\n`);
    expect(replied(await h.call({ tool: 'docs', message: 'tools/call' }))).toEqual([200, `data: ${KEPT}\n\n`]);
    // A method named like an Object member is no list request: its stream is vetted like any other.
    expect(replied(await h.call({ tool: 'docs', message: 'toString' }))).toEqual([200, `data: ${KEPT}\n\n`]);
    expect(replied(await h.call({ tool: 'billing' }))).toEqual([200, `data: ${LIST}\n\n`]);
  });

  it('buffers and filters an MCP tools/list answer, and never an HTTP tool answer', async () => {
    const h = await harness();
    h.tool = answer('application/json', LIST);
    const mcp = await h.call({ tool: 'docs', message: 'tools/list' });
    expect([...replied(mcp), (mcp.reply as Reply).headers['content-length']]).toEqual([200, KEPT, String(KEPT.length)]);
    expect(replied(await h.call({ tool: 'billing', message: 'tools/list' }))).toEqual([200, LIST]);
  });

  it('binds the Mcp-Session-Id of a buffered initialize answer before it is relayed', async () => {
    const h = await harness();
    const init = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{"elicitation":{"url":{}}}}}';
    h.tool = answer('application/json', '{}', { 'mcp-session-id': 'm-init' });
    expect(replied(await h.call({ tool: 'docs', message: 'initialize', body: init }))).toEqual([200, '{}']);
    expect([await h.store.mcpSessions.boundSession('docs', 'm-init'), await h.store.mcpSessions.urlElicitation('docs', 'm-init')]).toEqual(['ses_1', true]);
  });
});
