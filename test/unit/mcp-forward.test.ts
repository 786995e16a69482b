// What the forward stage does differently for MCP tools (src/pipeline/mcp-forward.ts), called directly:
// which answers are buffered (initialize; tools/list always; resources/list and prompts/list only where a
// rule of the tool names them), what the buffered transform relays (error answers untouched, lists
// filtered by the decision for using each item, an unreadable list refused), which streamed answers are
// vetted event by event, and when an Mcp-Session-Id is written to the store or logged as taken.
import { beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { PipelineDeps } from '../../src/pipeline/deps.js';
import { bindMcpSession, mcpBufferedTransform, mcpStreamFilter } from '../../src/pipeline/mcp-forward.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { basePolicy, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';
import { NOW, SESSION } from '../helpers/forward-stage.js';

// docs names resources, crm names prompts; each lets some tools be called.
const RULES = `  - id: search
    effect: allow
    tools: [docs, crm]
    mcp_tools: ["search_*"]
  - id: updates
    effect: require_approval
    tools: [docs]
    mcp_tools: ["update_*"]
    approval: { approvers: [approver], ttl: 1h, hold: 0s }
  - id: public
    effect: allow
    tools: [docs]
    mcp_resources: ["file:///public/*"]
  - id: summaries
    effect: allow
    tools: [crm]
    mcp_prompts: ["summarise_*"]
`;

let policy: PolicySnapshot;
beforeAll(async () => {
  policy = await loadPolicyDir(writePolicyDir({ 'main.yaml': basePolicy(RULES) }), { now: 0, toolNames: new Set(['docs', 'crm']) });
});

function setup(over: { tool?: string; method?: string; body?: string; mcpSession?: RequestContext['mcpSession'] } = {}) {
  const store = new MemoryStore();
  const logged: unknown[][] = [];
  const deps = { store, clock: new ManualClock(NOW), logger: { warn: (...args: unknown[]) => void logged.push(args) } } as unknown as PipelineDeps;
  const ctx = {
    requestId: 'req_1',
    policy,
    agent: policy.agents.get('bot'),
    route: { tool: { name: over.tool ?? 'docs', protocol: 'mcp' } },
    session: SESSION,
    action: { method: 'POST', path: '/', body: over.body === undefined ? null : Buffer.from(over.body) },
    ...(over.method !== undefined && { mcpMessage: { method: over.method, id: 1 } }),
    ...(over.mcpSession && { mcpSession: over.mcpSession }),
  } as unknown as RequestContext;
  return { store, deps, ctx, logged };
}

const JSON_TYPE = { 'content-type': 'application/json' };
const list = (member: string, key: string, names: string[]) => JSON.stringify({ jsonrpc: '2.0', id: 1, result: { [member]: names.map((n) => ({ [key]: n })) } });
const run = async (tool: string, method: string, status: number, headers: Record<string, string | string[]>, body: string) => {
  const { deps, ctx } = setup({ tool, method });
  const transform = mcpBufferedTransform(deps, ctx);
  if (transform === undefined) throw new Error(`${method} on ${tool} is not buffered`);
  return (await transform(status, headers, Buffer.from(body))).toString();
};

describe('mcpBufferedTransform: which answers are buffered', () => {
  it('buffers initialize, tools/list on every tool, and resources/list or prompts/list only where a rule names them', () => {
    const cases: [string, string | undefined, boolean][] = [
      ['docs', undefined, false], ['docs', 'tools/call', false], ['docs', 'initialize', true],
      ['docs', 'tools/list', true], ['crm', 'tools/list', true],
      ['docs', 'resources/list', true], ['crm', 'resources/list', false],
      ['docs', 'prompts/list', false], ['crm', 'prompts/list', true],
      // A method named like an Object member is no list (it would be looked up on the prototype).
      ['crm', 'toString', false], ['crm', 'constructor', false], ['crm', '__proto__', false],
    ];
    const buffered = cases.map(([tool, method]) => {
      const { deps, ctx } = setup({ tool, ...(method !== undefined && { method }) });
      return mcpBufferedTransform(deps, ctx) !== undefined;
    });
    expect(buffered).toEqual(cases.map(([, , b]) => b));
  });
});

describe('mcpBufferedTransform: what a buffered list answer becomes', () => {
  it('keeps the items the agent may use (allowed or needing an approval), by the decision for using each', async () => {
    expect(await run('docs', 'tools/list', 200, JSON_TYPE, list('tools', 'name', ['search_a', 'update_b', 'drop_c']))).toBe(list('tools', 'name', ['search_a', 'update_b']));
    expect(await run('docs', 'resources/list', 299, JSON_TYPE, list('resources', 'uri', ['file:///public/a', 'file:///secret/b']))).toBe(list('resources', 'uri', ['file:///public/a']));
    expect(await run('crm', 'prompts/list', 200, { 'content-type': ['application/json', 'text/plain'] }, list('prompts', 'name', ['summarise_x', 'leak_y']))).toBe(
      list('prompts', 'name', ['summarise_x']),
    );
  });

  it('relays an HTTP error answer untouched, and refuses a list answer it cannot read', async () => {
    const all = list('tools', 'name', ['search_a', 'drop_c']);
    expect([await run('docs', 'tools/list', 199, JSON_TYPE, all), await run('docs', 'tools/list', 300, JSON_TYPE, all)]).toEqual([all, all]);
    const refused = await run('docs', 'tools/list', 200, { 'content-type': 'text/plain' }, all).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(GatewayError);
    expect([(refused as GatewayError).code, (refused as GatewayError).message]).toEqual(['upstream_unreachable', 'The tool answered a list request with a body the gateway cannot read']);
  });

  it('binds the Mcp-Session-Id of a list answer, and of an initialize answer with its URL elicitation', async () => {
    const listed = setup({ method: 'tools/list' });
    await mcpBufferedTransform(listed.deps, listed.ctx)!(200, { ...JSON_TYPE, 'mcp-session-id': 'm-list' }, Buffer.from(list('tools', 'name', [])));
    const init = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{"elicitation":{"url":{}}}}}';
    const started = setup({ method: 'initialize', body: init });
    const relayed = await mcpBufferedTransform(started.deps, started.ctx)!(200, { 'mcp-session-id': 'm-init' }, Buffer.from('{"x":1}'));
    const sessions = [listed.store.mcpSessions, started.store.mcpSessions] as const;
    expect([await sessions[0].boundSession('docs', 'm-list'), await sessions[0].urlElicitation('docs', 'm-list')]).toEqual(['ses_1', false]);
    expect([await sessions[1].boundSession('docs', 'm-init'), await sessions[1].urlElicitation('docs', 'm-init'), relayed.toString()]).toEqual(['ses_1', true, '{"x":1}']);
  });
});

describe('mcpStreamFilter', () => {
  const events = (text: string) => `data: ${text}\n\n`;
  const relay = (tool: string, type: string | string[] | undefined, body: string): string | undefined => {
    const filter = mcpStreamFilter(setup({ tool, method: 'tools/call' }).ctx)!({ ...(type !== undefined && { 'content-type': type }) });
    return filter === undefined ? undefined : Buffer.concat([filter.push(Buffer.from(body)), filter.end()]).toString();
  };

  it('vets an event stream, whatever the case, leading space or parameters of its media type', () => {
    const tools = events(list('tools', 'name', ['search_a', 'drop_c']));
    const kept = events(list('tools', 'name', ['search_a']));
    expect([relay('docs', ' Text/Event-Stream; charset=utf-8', tools), relay('docs', ['text/event-stream', 'x'], tools)]).toEqual([kept, kept]);
    expect([relay('docs', 'application/json', tools), relay('docs', undefined, tools), relay('docs', ['application/json', 'text/event-stream'], tools)]).toEqual([undefined, undefined, undefined]);
  });

  it('filters the resources and prompts lists in a stream only where a rule of the tool names them', () => {
    const resources = events(list('resources', 'uri', ['file:///public/a', 'file:///secret/b']));
    const prompts = events(list('prompts', 'name', ['summarise_x', 'leak_y']));
    expect([relay('docs', 'text/event-stream', resources), relay('crm', 'text/event-stream', resources)]).toEqual([events(list('resources', 'uri', ['file:///public/a'])), resources]);
    expect([relay('docs', 'text/event-stream', prompts), relay('crm', 'text/event-stream', prompts)]).toEqual([prompts, events(list('prompts', 'name', ['summarise_x']))]);
  });
});

describe('bindMcpSession', () => {
  it('writes nothing for a missing, empty or non-string id, nor for the id the request presented bound here', async () => {
    const here = { id: 'm-1', boundHere: true };
    for (const [value, mcpSession] of [[undefined], [''], [['m-1']], [7], ['m-1', here]] as const) {
      const { deps, ctx, store } = setup({ ...(mcpSession && { mcpSession }) });
      store.mcpSessions.bind = () => Promise.reject(new Error(`bound ${String(value)}`));
      await expect(bindMcpSession(deps, ctx, value as never)).resolves.toBe(undefined);
    }
  });

  it('binds a new id, or one the request presented unbound, or another id than the one presented', async () => {
    for (const mcpSession of [undefined, { id: 'm-1', boundHere: false }, { id: 'm-0', boundHere: true }]) {
      const { deps, ctx, store, logged } = setup({ ...(mcpSession && { mcpSession }) });
      await bindMcpSession(deps, ctx, 'm-1');
      expect([await store.mcpSessions.boundSession('docs', 'm-1'), await store.mcpSessions.urlElicitation('docs', 'm-1'), logged]).toEqual(['ses_1', false, []]);
    }
  });

  it('leaves an id another session holds to that session, and logs the reuse', async () => {
    const { deps, ctx, store, logged } = setup({ tool: 'crm' });
    await store.mcpSessions.bind({ tool: 'crm', mcpSessionId: 'm-9', sessionId: 'ses_other', createdAt: NOW, urlElicitation: false });
    await bindMcpSession(deps, ctx, 'm-9', true);
    expect(await store.mcpSessions.boundSession('crm', 'm-9')).toBe('ses_other');
    expect(logged).toEqual([[{ request_id: 'req_1', tool: 'crm' }, 'upstream reused an MCP session id bound to another session']]);
  });
});
