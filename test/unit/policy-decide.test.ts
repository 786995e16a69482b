// SPEC §3 "MCP requests are governed like any other request": THE decision (policy/decide.ts) that the
// gateway, `policy test` and `policy explain` share, and the MCP selectors it matches (mcp-match.ts).
import { describe, expect, it } from 'vitest';
import { decideCall, httpGate, type CallFacts } from '../../src/policy/decide.js';
import { loadPolicyDir, validatePolicyDir } from '../../src/policy/load.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import { HEADER, SHA_A, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';

const TOOLS = new Set(['billing', 'crm', 'docs']);
const POLICY = `${HEADER}agents:
  bot:
    roles: [agent]
    credentials: [{ type: secret, sha256: "${SHA_A}" }]
rules:
  - id: tools
    effect: allow
    tools: [crm]
    mcp_tools: ["search_*"]
  - id: approve-updates
    effect: require_approval
    tools: [crm]
    mcp_tools: ["update_*"]
    approval: { approvers: [approver], ttl: 1h, hold: 0s }
  - id: customers
    effect: allow
    tools: [crm]
    mcp_resources: ["crm://customers/*", "file:///public/**"]
  - id: read-only-notes
    effect: allow
    tools: [crm]
    mcp_methods: ["resources/read"]
    mcp_resources: ["crm://notes/*"]
  - id: prompts
    effect: allow
    tools: [crm]
    mcp_prompts: ["summarise_*"]
  - id: housekeeping
    effect: allow
    tools: [crm]
    mcp_methods: ["logging/*", "completion/complete"]
  - id: no-secret-prompts
    effect: deny
    tools: [crm]
    mcp_prompts: ["*secret*"]
  - id: no-admin
    effect: deny
    tools: [crm]
    paths: ["/admin/**"]
  - id: uploads
    effect: allow
    tools: [crm]
    methods: [PUT]
    paths: ["/uploads/*"]
  - id: no-stream
    effect: deny
    tools: [docs]
    methods: [GET]
  - id: docs
    effect: allow
    tools: [docs]
`;

let cached: PolicySnapshot | undefined;
async function policy(): Promise<PolicySnapshot> {
  cached ??= await loadPolicyDir(writePolicyDir({ 'main.yaml': POLICY }), { now: 0, toolNames: TOOLS });
  return cached;
}

const mcp = (over: Partial<CallFacts> & { mcp?: CallFacts['mcp'] } = {}): CallFacts => ({
  agentId: 'bot',
  roles: ['agent'],
  tool: 'crm',
  protocol: 'mcp',
  method: 'POST',
  path: '/',
  ...over,
});
const decide = async (facts: CallFacts) => {
  const verdict = decideCall(await policy(), facts);
  return [verdict.effect, verdict.rule?.id ?? null, verdict.basis];
};

describe('decideCall on MCP tools (SPEC §3)', () => {
  it('matches tools/call by mcp_tools; deny beats require_approval beats allow; no match is deny', async () => {
    expect(await decide(mcp({ mcp: { method: 'tools/call', tool: 'search_x' } }))).toEqual(['allow', 'tools', 'message']);
    expect(await decide(mcp({ mcp: { method: 'tools/call', tool: 'update_x' } }))).toEqual(['require_approval', 'approve-updates', 'message']);
    expect(await decide(mcp({ mcp: { method: 'tools/call', tool: 'drop_x' } }))).toEqual(['deny', null, 'message']);
  });

  it('matches resources by URI globs split on "/": * within a segment, ** any number of segments', async () => {
    const read = (resource: string, method = 'resources/read') => decide(mcp({ mcp: { method, resource } }));
    expect(await read('crm://customers/1')).toEqual(['allow', 'customers', 'message']);
    expect(await read('crm://customers/1/orders')).toEqual(['deny', null, 'message']);
    expect(await read('file:///public/a/b/c.txt')).toEqual(['allow', 'customers', 'message']);
    expect(await read('file:///private/a')).toEqual(['deny', null, 'message']);
    // mcp_resources without mcp_methods covers read, subscribe and unsubscribe ...
    expect(await read('crm://customers/1', 'resources/subscribe')).toEqual(['allow', 'customers', 'message']);
    expect(await read('crm://customers/1', 'resources/unsubscribe')).toEqual(['allow', 'customers', 'message']);
    // ... with mcp_methods, only the methods it names.
    expect(await read('crm://notes/1')).toEqual(['allow', 'read-only-notes', 'message']);
    expect(await read('crm://notes/1', 'resources/subscribe')).toEqual(['deny', null, 'message']);
  });

  it('matches prompts/get by mcp_prompts, and other methods by mcp_methods globs', async () => {
    expect(await decide(mcp({ mcp: { method: 'prompts/get', prompt: 'summarise_day' } }))).toEqual(['allow', 'prompts', 'message']);
    expect(await decide(mcp({ mcp: { method: 'prompts/get', prompt: 'summarise_secret' } }))).toEqual(['deny', 'no-secret-prompts', 'message']);
    expect(await decide(mcp({ mcp: { method: 'logging/setLevel' } }))).toEqual(['allow', 'housekeeping', 'message']);
    expect(await decide(mcp({ mcp: { method: 'completion/complete' } }))).toEqual(['allow', 'housekeeping', 'message']);
    expect(await decide(mcp({ mcp: { method: 'tasks/get' } }))).toEqual(['deny', null, 'message']);
  });

  it('never lets a selector match a method it does not cover (a resource rule allows no tools/call)', async () => {
    expect(await decide(mcp({ mcp: { method: 'tools/call', tool: 'crm://customers/1' } }))).toEqual(['deny', null, 'message']);
    expect(await decide(mcp({ mcp: { method: 'resources/read', resource: 'search_x' } }))).toEqual(['deny', null, 'message']);
    expect(await decide(mcp({ mcp: { method: 'prompts/get', prompt: 'search_x' } }))).toEqual(['deny', null, 'message']);
  });

  it('governs discovery, notifications and client responses by scope alone, and GET/DELETE on the endpoint', async () => {
    for (const method of ['initialize', 'ping', 'server/discover', 'tools/list', 'resources/list', 'resources/templates/list', 'prompts/list', 'notifications/initialized', undefined]) {
      expect(await decide(mcp({ mcp: { method } }))).toEqual(['allow', null, 'scope']);
    }
    expect(await decide(mcp({ method: 'GET' }))).toEqual(['allow', null, 'scope']);
    expect(await decide(mcp({ method: 'DELETE' }))).toEqual(['allow', null, 'scope']);
  });

  it('applies HTTP rules to MCP tools: a path deny refuses everything there, other paths and methods need an allow rule', async () => {
    const p = await policy();
    expect(httpGate(p, mcp({ path: '/admin/x' }))?.rule?.id).toBe('no-admin');
    expect(await decide(mcp({ path: '/admin/x', mcp: { method: 'tools/call', tool: 'search_x' } }))).toEqual(['deny', 'no-admin', 'http']);
    expect(await decide(mcp({ path: '/admin', method: 'GET' }))).toEqual(['deny', 'no-admin', 'http']);
    expect(await decide(mcp({ path: '/other', method: 'GET' }))).toEqual(['deny', null, 'http']);
    expect(await decide(mcp({ method: 'PUT' }))).toEqual(['deny', null, 'http']);
    expect(await decide(mcp({ path: '/uploads/a', method: 'PUT' }))).toEqual(['allow', 'uploads', 'http']);
    expect(httpGate(p, mcp())).toBeUndefined();
    // A deny rule on the endpoint's method refuses the stream GET too; the allow-all rule does not matter there.
    expect(await decide(mcp({ tool: 'docs', method: 'GET' }))).toEqual(['deny', 'no-stream', 'http']);
    expect(await decide(mcp({ tool: 'docs', mcp: { method: 'tools/call', tool: 'anything' } }))).toEqual(['allow', 'docs', 'message']);
  });

  it('defaults side_effects to true for tools/call only among MCP messages', async () => {
    const p = await policy();
    expect(decideCall(p, mcp({ mcp: { method: 'tools/call', tool: 'search_x' } })).decision?.sideEffects).toBe(true);
    expect(decideCall(p, mcp({ mcp: { method: 'resources/read', resource: 'crm://customers/1' } })).decision?.sideEffects).toBe(false);
    expect(decideCall(p, { ...mcp(), protocol: 'http', tool: 'billing', path: '/x' }).decision?.sideEffects).toBe(true);
  });

  it('filters resources/list and prompts/list only for tools a rule with mcp_resources / mcp_prompts applies to', async () => {
    const p = await policy();
    expect(p.mcpListFilters('crm')).toEqual({ resources: true, prompts: true });
    expect(p.mcpListFilters('docs')).toEqual({ resources: false, prompts: false });
  });
});

describe('MCP selectors are validated strictly at load', () => {
  it.each([
    ['an unknown selector key', '    mcp_resource: ["x"]\n', 'unknown key'],
    ['a URI glob with a reserved character', '    mcp_resources: ["crm://a/[x]"]\n', 'bad glob'],
    ['** inside a URI segment', '    mcp_resources: ["crm://a/x**"]\n', 'bad glob'],
    ['an empty mcp_methods list', '    mcp_methods: []\n', 'must not be empty'],
    ['mcp_prompts that mcp_methods excludes', '    mcp_methods: ["tools/call"]\n    mcp_prompts: ["a"]\n', 'prompts/get'],
    ['mcp_resources that mcp_methods excludes', '    mcp_methods: ["prompts/get"]\n    mcp_resources: ["a"]\n', 'resources/read'],
    ['an MCP selector with methods that exclude POST', '    methods: [GET]\n    mcp_tools: ["delete_*"]\n', 'must include POST'],
  ])('refuses %s', async (_what, rule, message) => {
    const result = await validatePolicyDir(writePolicyDir({ 'main.yaml': `${HEADER}rules:\n  - id: r\n    effect: allow\n    tools: [crm]\n${rule}` }), { now: 0, toolNames: TOOLS });
    expect(result.snapshot).toBeUndefined();
    expect(result.issues.map((issue) => issue.message).join('\n')).toContain(message);
  });
});
