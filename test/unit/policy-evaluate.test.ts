import { describe, expect, it } from 'vitest';
import { loadPolicyDir } from '../../src/policy/load.js';
import type { PolicySnapshot, RequestFacts } from '../../src/policy/types.js';
import { HEADER, SHA_A, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';

const TOOLS = new Set(['billing', 'crm', 'files']);

const POLICY = `${HEADER}agents:
  bot:
    roles: [billing-agent]
    credentials: [{ type: secret, sha256: "${SHA_A}" }]
  reader:
    roles: [reader]
    credentials: [{ type: secret, sha256: "${SHA_A}" }]
  loner:
    credentials: [{ type: secret, sha256: "${SHA_A}" }]
people:
  pat:
    roles: [approver]
    credentials: [{ type: secret, sha256: "${SHA_A}" }]
rules:
  - id: read
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [GET, HEAD]
    paths: ["/invoices/**"]
  - id: write-invoices
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/invoices/*/notes"]
    side_effects: false
    idempotency: required
  - id: refunds
    effect: require_approval
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/refunds", "/invoices/*/notes"]
    approval: { approvers: [approver], ttl: 1h, hold: 0s }
  - id: never-admin
    effect: deny
    tools: [billing]
    paths: ["/admin/**"]
  - id: open-admin
    effect: allow
    tools: [billing]
    paths: ["/admin/public"]
  - id: crm-tools
    effect: allow
    agents: [bot]
    tools: [crm]
    mcp_tools: ["search_*", "get_customer"]
  - id: shadow-block-reports
    effect: deny
    mode: shadow
    tools: [billing]
    paths: ["/invoices/reports/**"]
  - id: shadow-files
    effect: allow
    mode: shadow
    roles: [reader]
    tools: [files]
  - id: reader-everything
    effect: allow
    roles: [reader]
    methods: [GET]
`;

let cached: PolicySnapshot | undefined;
async function snapshot(): Promise<PolicySnapshot> {
  cached ??= await loadPolicyDir(writePolicyDir({ 'main.yaml': POLICY }), { now: 0, toolNames: TOOLS });
  return cached;
}

function facts(partial: Partial<RequestFacts>): RequestFacts {
  return { agentId: 'bot', roles: ['billing-agent'], tool: 'billing', method: 'GET', path: '/invoices/1', ...partial };
}

describe('snapshot.evaluate', () => {
  it('allows through a matching allow rule', async () => {
    const d = (await snapshot()).evaluate(facts({}));
    expect(d.effect).toBe('allow');
    expect(d.rule?.id).toBe('read');
    expect(d.matched.map((r) => r.id)).toEqual(['read']);
  });

  it('denies by default when no rule matches, with rule null', async () => {
    const s = await snapshot();
    for (const f of [facts({ method: 'DELETE' }), facts({ path: '/customers' }), facts({ roles: [] }), facts({ tool: 'files' })]) {
      const d = s.evaluate(f);
      expect(d.effect).toBe('deny');
      expect(d.rule).toBeNull();
    }
  });

  it('lets deny win over allow', async () => {
    const d = (await snapshot()).evaluate(facts({ path: '/admin/public' }));
    expect(d.effect).toBe('deny');
    expect(d.rule?.id).toBe('never-admin');
    expect(d.matched.map((r) => r.id)).toEqual(['never-admin', 'open-admin']);
  });

  it('lets require_approval win over allow', async () => {
    const d = (await snapshot()).evaluate(facts({ method: 'POST', path: '/invoices/7/notes' }));
    expect(d.effect).toBe('require_approval');
    expect(d.rule?.id).toBe('refunds');
    expect(d.rule?.approval).toEqual({ approvers: ['approver'], ttlMs: 3_600_000, holdMs: 0 });
  });

  it('compares methods case-insensitively', async () => {
    expect((await snapshot()).evaluate(facts({ method: 'get' })).effect).toBe('allow');
  });

  it('never enforces shadow rules but reports them', async () => {
    const s = await snapshot();
    const d = s.evaluate(facts({ path: '/invoices/reports/q3' }));
    expect(d.effect).toBe('allow');
    expect(d.rule?.id).toBe('read');
    expect(d.shadow.map((r) => r.id)).toEqual(['shadow-block-reports']);
    const files = s.evaluate({ agentId: 'reader', roles: ['reader'], tool: 'files', method: 'POST', path: '/x' });
    expect(files.effect).toBe('deny');
    expect(files.shadow.map((r) => [r.id, r.effect])).toEqual([['shadow-files', 'allow']]);
  });

  it('matches mcp_tools only on tools/call with a matching name', async () => {
    const s = await snapshot();
    const mcp = (mcpTool?: string) => s.evaluate(facts({ tool: 'crm', method: 'POST', path: '/', ...(mcpTool ? { mcpTool } : {}) }));
    expect(mcp('search_customers').rule?.id).toBe('crm-tools');
    expect(mcp('get_customer').effect).toBe('allow');
    expect(mcp('delete_customer').effect).toBe('deny');
    expect(mcp(undefined).effect).toBe('deny');
  });

  it('matches agents: selectors on the agent id, not roles', async () => {
    const s = await snapshot();
    expect(s.evaluate(facts({ agentId: 'other', tool: 'crm', method: 'POST', path: '/', mcpTool: 'get_customer' })).effect).toBe('deny');
  });

  it('defaults sideEffects to true for POST/PUT/PATCH/DELETE and MCP calls, false otherwise', async () => {
    const s = await snapshot();
    expect(s.evaluate(facts({})).sideEffects).toBe(false);
    expect(s.evaluate(facts({ method: 'POST', path: '/refunds' })).sideEffects).toBe(true);
    for (const method of ['PUT', 'PATCH', 'DELETE']) expect(s.evaluate(facts({ method, path: '/nowhere' })).sideEffects).toBe(true);
    expect(s.evaluate(facts({ method: 'HEAD', path: '/nowhere' })).sideEffects).toBe(false);
    expect(s.evaluate(facts({ tool: 'crm', method: 'POST', path: '/', mcpTool: 'search_x' })).sideEffects).toBe(true);
  });

  it('takes side_effects and idempotency from the deciding rule', async () => {
    const s = await snapshot();
    // write-invoices matches but refunds decides (require_approval beats allow): its defaults apply.
    const decided = s.evaluate(facts({ method: 'POST', path: '/invoices/7/notes' }));
    expect(decided.sideEffects).toBe(true);
    expect(decided.idempotency).toBe('optional');
    expect(decided.matched.map((r) => r.id)).toEqual(['write-invoices', 'refunds']);
  });

  it('applies a rule\'s side_effects: false and idempotency: required when it decides', async () => {
    const s = await loadPolicyDir(
      writePolicyDir({
        'a.yaml': `${HEADER}rules:\n  - id: w\n    effect: allow\n    methods: [POST]\n    side_effects: false\n    idempotency: required\n`,
      }),
      { now: 0, toolNames: TOOLS },
    );
    const d = s.evaluate(facts({ method: 'POST', roles: [] }));
    expect(d).toMatchObject({ effect: 'allow', sideEffects: false, idempotency: 'required' });
    expect(s.evaluate(facts({ method: 'GET', roles: [] })).idempotency).toBe('optional');
  });
});

describe('snapshot.reachableTools', () => {
  it('lists tools reachable through enforced allow or require_approval rules', async () => {
    const s = await snapshot();
    expect([...s.reachableTools(s.agents.get('bot')!)].sort()).toEqual(['billing', 'crm']);
  });

  it('treats a rule without tools as reaching every configured tool, and ignores shadow rules', async () => {
    const s = await snapshot();
    expect([...s.reachableTools(s.agents.get('reader')!)].sort()).toEqual(['billing', 'crm', 'files']);
  });

  it('gives nothing to an agent no rule applies to, and does not count deny rules', async () => {
    const s = await snapshot();
    // never-admin applies to every agent but is a deny; open-admin applies to every agent too.
    expect([...s.reachableTools(s.agents.get('loner')!)]).toEqual(['billing']);
    const denyOnly = await loadPolicyDir(
      writePolicyDir({ 'a.yaml': `${HEADER}agents:\n  x:\n    credentials: [{ type: secret, sha256: "${SHA_A}" }]\nrules:\n  - id: d\n    effect: deny\n` }),
      { now: 0, toolNames: TOOLS },
    );
    expect(denyOnly.reachableTools(denyOnly.agents.get('x')!).size).toBe(0);
  });
});
