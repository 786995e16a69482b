// SPEC §15 policy test case tables: strict schema, checks against the policy, and the gateway's evaluator.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validatePolicyDir } from '../../src/policy/load.js';
import { checkPolicyTests, decideCase, describeOutcome, loadPolicyTests, runPolicyTests } from '../../src/policy/test-runner.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import { basePolicy, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';

const RULES = `  - id: read
    effect: allow
    roles: [agent-role]
    methods: [GET]
    paths: ["/invoices/**"]
  - id: refunds
    effect: require_approval
    roles: [agent-role]
    methods: [POST]
    paths: ["/refunds"]
    approval: { approvers: [approver], ttl: 1h, hold: 0s }
  - id: no-admin
    effect: deny
    paths: ["/admin/**"]
  - id: all-crm
    effect: allow
    tools: [crm]
    mcp_tools: ["search_*"]
  - id: shadow-deny
    effect: deny
    mode: shadow
    paths: ["/invoices/secret"]
`;
const HEADER = 'apiVersion: epochgate/v1\nkind: PolicyTest\ncases:\n';

async function setup(tests: Record<string, string>, policy = basePolicy(RULES)) {
  const dir = writePolicyDir({ 'main.yaml': policy, ...tests });
  const validation = await validatePolicyDir(dir, { now: 0 });
  expect(validation.issues).toEqual([]);
  return { dir, policy: validation.snapshot as PolicySnapshot, loaded: await loadPolicyTests(dir) };
}

const input = (over: Record<string, string> = {}) => ({ agent: 'bot', tool: 'billing', method: 'GET', path: '/invoices/1', ...over });

describe('policy test runner', () => {
  it('decides with the same evaluator as the gateway: deny beats require_approval beats allow, shadow rules never decide', async () => {
    const { policy } = await setup({});
    expect(decideCase(policy, input())).toEqual({ effect: 'allow', rule: 'read' });
    expect(decideCase(policy, input({ method: 'post', path: '/refunds' }))).toEqual({ effect: 'require_approval', rule: 'refunds' });
    expect(decideCase(policy, input({ path: '/admin/x' }))).toEqual({ effect: 'deny', rule: 'no-admin' });
    expect(decideCase(policy, input({ path: '/invoices/secret' }))).toEqual({ effect: 'allow', rule: 'read' });
    expect(decideCase(policy, input({ path: '/other' }))).toEqual({ effect: 'deny', rule: null, note: 'no rule matched' });
    expect(decideCase(policy, input({ tool: 'crm', method: 'POST', path: '/', mcp_tool: 'search_x' }))).toEqual({ effect: 'allow', rule: 'all-crm' });
    expect(decideCase(policy, input({ tool: 'crm', method: 'POST', path: '/' }))).toMatchObject({ effect: 'deny', rule: null });
  });

  it('passes a case only when the effect and (if given) the rule match; rule: null means no rule decided', async () => {
    const { policy, loaded } = await setup({
      'a.test.yaml': `${HEADER}  - name: effect only
    input: { agent: bot, tool: billing, method: GET, path: /invoices/1 }
    expect: { effect: allow }
  - name: right effect, wrong rule
    input: { agent: bot, tool: billing, method: GET, path: /admin/1 }
    expect: { effect: deny, rule: read }
  - name: default deny
    input: { agent: bot, tool: billing, method: GET, path: /nope }
    expect: { effect: deny, rule: null }
  - name: null rule, but a rule decided
    input: { agent: bot, tool: billing, method: GET, path: /admin/1 }
    expect: { effect: deny, rule: null }
`,
    });
    expect(loaded.issues).toEqual([]);
    expect(checkPolicyTests(loaded.files, policy)).toEqual([]);
    const results = runPolicyTests(loaded.files, policy);
    expect(results.map((r) => [r.name, r.passed])).toEqual([
      ['effect only', true],
      ['right effect, wrong rule', false],
      ['default deny', true],
      ['null rule, but a rule decided', false],
    ]);
    expect(results[1]).toMatchObject({ line: 7, got: { effect: 'deny', rule: 'no-admin' } });
  });

  it('decides deny by no rule for a disabled agent (agent_disabled comes before policy, SPEC §6)', async () => {
    const { policy } = await setup({}, basePolicy(RULES).replace('  bot:\n', '  bot:\n    enabled: false\n'));
    expect(decideCase(policy, input())).toEqual({ effect: 'deny', rule: null, note: 'agent disabled' });
  });

  it('validates test files strictly: apiVersion, kind, unknown keys, empty cases, bad method and path, with lines', async () => {
    const { dir, loaded } = await setup({
      'a.test.yaml': 'apiVersion: epochgate/v2\nkind: Policy\ncases: []\n',
      'b.test.yaml': `${HEADER}  - name: x
    input: { agent: bot, tool: billing, method: "GE T", path: /x, extra: 1 }
    expect: { effect: allow }
    note: hi
`,
      'c.test.yaml': 'cases: [\n',
    });
    const issues = loaded.issues.map((i) => `${i.file.slice(dir.length + 1)}:${i.line ?? '-'} ${i.path}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        'a.test.yaml:1 apiVersion',
        'a.test.yaml:2 kind',
        'a.test.yaml:3 cases',
        'b.test.yaml:5 cases[0].input.method',
        'b.test.yaml:5 cases[0].input.extra',
        'b.test.yaml:7 cases[0].note',
      ]),
    );
    expect(loaded.issues.some((i) => i.file === join(dir, 'c.test.yaml'))).toBe(true);
    expect(loaded.files).toEqual([]);
  });

  it('reports unknown agents, rules and tools and duplicate case names against the policy', async () => {
    const { policy, loaded } = await setup({
      'a.test.yaml': `${HEADER}  - name: same
    input: { agent: ghost, tool: payroll, method: GET, path: /x }
    expect: { effect: deny, rule: nope }
  - name: same
    input: { agent: bot, tool: billing, method: GET, path: /x }
    expect: { effect: deny }
`,
    });
    const issues = checkPolicyTests(loaded.files, policy, new Set(['billing', 'crm'])).map((i) => `${i.line} ${i.path}: ${i.message}`);
    expect(issues).toEqual([
      '5 cases[0].input.agent: agent "ghost" is not defined in the policy',
      '5 cases[0].input.tool: tool "payroll" is not defined in the operator config',
      '6 cases[0].expect.rule: rule "nope" is not defined in the policy',
      '7 cases[1].name: duplicate case name "same" (first at cases[0])',
    ]);
  });

  it('refuses an MCP message on a tool the operator config makes an HTTP tool', async () => {
    const { policy, loaded } = await setup({
      'a.test.yaml': `${HEADER}  - name: mcp on http
    input: { agent: bot, tool: billing, method: POST, path: /, mcp_tool: x }
    expect: { effect: deny }
`,
    });
    const protocols = new Map([['billing', 'http'], ['crm', 'mcp']] as const);
    const issues = checkPolicyTests(loaded.files, policy, new Set(['billing', 'crm']), protocols).map((i) => `${i.path}: ${i.message}`);
    expect(issues).toEqual(['cases[0].input.mcp_tool: tool "billing" is not an MCP tool (protocol http)']);
  });

  it('decides MCP cases with the gateway\'s decision: messages, discovery and the endpoint', async () => {
    const { policy } = await setup({});
    const protocols = new Map([['crm', 'mcp']] as const);
    const mcp = (over: Record<string, string>) => decideCase(policy, { agent: 'bot', tool: 'crm', method: 'POST', path: '/', ...over }, protocols);
    expect(mcp({ mcp_tool: 'search_x' })).toEqual({ effect: 'allow', rule: 'all-crm' });
    expect(mcp({ mcp_method: 'tools/list' })).toEqual({ effect: 'allow', rule: null, note: 'governed by scope alone' });
    expect(mcp({ method: 'GET' })).toEqual({ effect: 'allow', rule: null, note: 'governed by scope alone' });
  });

  it('describes outcomes for people', () => {
    expect(describeOutcome('allow', 'read')).toBe('allow by rule read');
    expect(describeOutcome('deny', null, 'no rule matched')).toBe('deny by no rule (no rule matched)');
    expect(describeOutcome('deny', undefined)).toBe('deny');
  });
});
