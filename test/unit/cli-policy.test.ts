// SPEC §15: `policy check`, `policy test` and `policy explain`, run in-process with captured output.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPolicyCommand } from '../../src/cli/policy.js';
import { basePolicy, HEADER, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = join(ROOT, 'config/epochgate.yaml');

async function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = await runPolicyCommand(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

const rule = (id: string, body: string) => `  - id: ${id}\n    effect: allow\n    roles: [agent-role]\n    tools: [billing]\n${body}`;

describe('epochgate policy check', () => {
  it('reports every broken file at once with file, line and key path, and exits 1', async () => {
    const dir = writePolicyDir({
      'a-good.yaml': basePolicy(rule('dup', '')),
      'b-unknown-key.yaml': `${HEADER}rules:\n${rule('b', '    colour: red\n')}`,
      'c-bad-duration.yaml': `${HEADER}rules:\n  - id: c\n    effect: require_approval\n    approval: { approvers: [approver], ttl: 1 week, hold: 0s }\n`,
      'd-bad-glob.yaml': `${HEADER}rules:\n${rule('d', '    paths: ["/a**b"]\n')}`,
      'e-bad-effect.yaml': `${HEADER}rules:\n  - id: e\n    effect: permit\n`,
      'f-duplicate-id.yaml': `${HEADER}rules:\n${rule('dup', '')}`,
    });
    const res = await run('check', dir, '--config', CONFIG);
    expect(res.code).toBe(1);
    const expected: [string, string][] = [
      ['b-unknown-key.yaml:8', 'rules[0].colour: unknown key'],
      ['c-bad-duration.yaml:6', 'rules[0].approval.ttl: must be a duration'],
      ['d-bad-glob.yaml:8', 'rules[0].paths[0]: bad glob'],
      ['e-bad-effect.yaml:5', 'rules[0].effect:'],
      ['f-duplicate-id.yaml:4', 'rules[0].id: duplicate rule id "dup" (first at'],
    ];
    for (const [where, what] of expected) expect(res.err).toContain(`${join(dir, where)}: ${what}`);
    expect(res.err).not.toMatch(/^\S*a-good\.yaml:\d+: /m);
    expect(res.err).toContain('invalid: 5 error(s) in 5 file(s)');
    expect(res.out).toBe('');
  });

  it('accepts the shipped policies with the shipped config and exits 0', async () => {
    const res = await run('check', join(ROOT, 'policies'), '--config', CONFIG);
    expect(res).toMatchObject({ code: 0, err: '' });
    expect(res.out).toMatch(/valid, 2 file\(s\), revision [0-9a-f]{12}/);
  });

  it('checks tool names against the operator config', async () => {
    const dir = writePolicyDir({ 'a.yaml': basePolicy('  - id: r\n    effect: allow\n    tools: [payroll]\n') });
    const res = await run('check', dir, '--config', CONFIG);
    expect(res.code).toBe(1);
    expect(res.err).toContain('rules[0].tools[0]: tool "payroll" is not defined in the operator config');
  });

  it('reports an unknown tool together with the schema errors of the same file, not after they are fixed', async () => {
    const dir = writePolicyDir({
      'a.yaml': basePolicy('  - id: r\n    effect: allow\n    tools: [payroll]\n    colour: red\n'),
    });
    const res = await run('check', dir, '--config', CONFIG);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/a\.yaml:\d+: rules\[0\]\.colour: unknown key/);
    expect(res.err).toMatch(/a\.yaml:\d+: rules\[0\]\.tools\[0\]: tool "payroll" is not defined in the operator config/);
    expect(res.err).toContain('invalid: 2 error(s) in 1 file(s)');
  });

  it('answers usage errors with 2 and --help with 0', async () => {
    expect((await run('frobnicate')).code).toBe(2);
    expect((await run('check', 'a', 'b')).code).toBe(2);
    expect((await run('check', '--bogus')).code).toBe(2);
    expect((await run('check', 'a', '--policies', 'b')).code).toBe(2);
    const help = await run('test', '--help');
    expect(help.code).toBe(0);
    for (const word of ['policy check', 'policy test', 'policy explain']) expect(help.out).toContain(word);
  });
});

const TESTS_HEADER = 'apiVersion: epochgate/v1\nkind: PolicyTest\ncases:\n';
const POLICY = basePolicy(`${rule('read', '    methods: [GET]\n    paths: ["/invoices/**"]\n')}  - id: no-admin\n    effect: deny\n    paths: ["/admin/**"]\n`);

describe('epochgate policy test', () => {
  it('runs the shipped case tables for policies/billing.yaml and policies/crm.yaml and they all pass', async () => {
    const res = await run('test', join(ROOT, 'policies'), '--config', CONFIG);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/\n(\d+) passed, 0 failed \(2 file\(s\)/);
    expect(Number(/(\d+) passed/.exec(res.out)![1])).toBeGreaterThanOrEqual(30);
  });

  it('prints the input, the expected and the actual decision of a failing case, and exits 1', async () => {
    const dir = writePolicyDir({
      'main.yaml': POLICY,
      'main.test.yaml': `${TESTS_HEADER}  - name: reads
    input: { agent: bot, tool: billing, method: GET, path: /invoices/1 }
    expect: { effect: allow, rule: read }
  - name: wrongly expects an allow
    input: { agent: bot, tool: billing, method: GET, path: /admin/x }
    expect: { effect: allow, rule: read }
`,
    });
    const res = await run('test', dir, '--config', CONFIG);
    expect(res.code).toBe(1);
    expect(res.out).toContain('ok    reads\n');
    expect(res.out).toContain(`FAIL  wrongly expects an allow  (${join(dir, 'main.test.yaml')}:7)`);
    expect(res.out).toContain('input:    agent=bot tool=billing method=GET path=/admin/x');
    expect(res.out).toContain('expected: allow by rule read');
    expect(res.out).toContain('got:      deny by rule no-admin');
    expect(res.out).toContain('1 passed, 1 failed');
  });

  it('fails an invalid test file with file, line and key path, and runs no case', async () => {
    const dir = writePolicyDir({
      'main.yaml': POLICY,
      'bad.test.yaml': `${TESTS_HEADER}  - name: typo
    input: { agent: bott, tool: billing, method: GET, path: invoices }
    expect: { effect: permit, colour: red }
`,
    });
    const res = await run('test', dir, '--config', CONFIG);
    expect(res.code).toBe(1);
    const file = join(dir, 'bad.test.yaml');
    expect(res.err).toContain(`${file}:5: cases[0].input.path: must start with "/"`);
    expect(res.err).toContain(`${file}:6: cases[0].expect.effect:`);
    expect(res.err).toContain(`${file}:6: cases[0].expect.colour: unknown key`);
    expect(res.out).toBe('');
  });

  it('fails a case naming an agent, rule or tool that does not exist (a typo never passes)', async () => {
    const dir = writePolicyDir({
      'main.yaml': POLICY,
      'typo.test.yaml': `${TESTS_HEADER}  - name: typo
    input: { agent: bott, tool: biling, method: GET, path: /x }
    expect: { effect: deny, rule: no-admn }
`,
    });
    const res = await run('test', dir, '--config', CONFIG);
    expect(res.code).toBe(1);
    expect(res.err).toContain('cases[0].input.agent: agent "bott" is not defined in the policy');
    expect(res.err).toContain('cases[0].input.tool: tool "biling" is not defined in the operator config');
    expect(res.err).toContain('cases[0].expect.rule: rule "no-admn" is not defined in the policy');
  });

  it('fails when there is no test file, and when the policy itself is invalid', async () => {
    const none = await run('test', writePolicyDir({ 'main.yaml': POLICY }), '--config', CONFIG);
    expect(none.code).toBe(1);
    expect(none.err).toContain('no policy tests (*.test.yaml) found');
    const invalid = await run('test', writePolicyDir({ 'main.yaml': `${POLICY}colour: red\n`, 'x.test.yaml': TESTS_HEADER }), '--config', CONFIG);
    expect(invalid.code).toBe(1);
    expect(invalid.err).toContain('colour: unknown key');
  });
});

describe('epochgate policy explain', () => {
  const dir = writePolicyDir({ 'main.yaml': POLICY });
  const explain = (...args: string[]) => run('explain', dir, '--config', CONFIG, '--agent', 'bot', '--tool', 'billing', ...args);

  it('names every matching rule with its effect and the one that decided', async () => {
    const dirBoth = writePolicyDir({ 'main.yaml': basePolicy(`${rule('read-all', '')}  - id: no-admin\n    effect: deny\n    paths: ["/admin/**"]\n`) });
    const res = await run('explain', dirBoth, '--config', CONFIG, '--agent', 'bot', '--tool', 'billing', '--method', 'get', '--path', '/admin/x');
    expect(res.code).toBe(0);
    expect(res.out).toContain('decision: deny (rule no-admin)');
    expect(res.out).toContain('- read-all (allow) in main.yaml');
    expect(res.out).toContain('* no-admin (deny) in main.yaml  <- decided');
  });

  it('says so when a deny was decided by no rule, and exits 0', async () => {
    const res = await explain('--method', 'POST', '--path', '/invoices/1');
    expect(res.code).toBe(0);
    expect(res.out).toContain('decision: deny (no rule decided)');
    expect(res.out).toContain('no enforced rule matched this call: default deny');
    expect(res.out).toContain('matching rules: none');
  });

  it('prints JSON with --json', async () => {
    const res = await explain('--method', 'GET', '--path', '/invoices/1', '--json');
    expect(JSON.parse(res.out)).toMatchObject({ decision: 'allow', rule_id: 'read', matching_rules: [{ id: 'read', effect: 'allow', decided: true }] });
  });

  it('treats a disabled agent as denied before any rule, as the gateway does', async () => {
    const off = writePolicyDir({ 'main.yaml': POLICY.replace('  bot:\n', '  bot:\n    enabled: false\n') });
    const res = await run('explain', off, '--config', CONFIG, '--agent', 'bot', '--tool', 'billing', '--method', 'GET', '--path', '/invoices/1', '--json');
    expect(JSON.parse(res.out)).toMatchObject({ decision: 'deny', rule_id: null, agent_enabled: false, matching_rules: [{ id: 'read', decided: false }] });
  });

  describe('on the shipped MCP tool (crm, protocol mcp in the config)', () => {
    const shipped = join(ROOT, 'policies');
    const crm = (...args: string[]) => run('explain', shipped, '--config', CONFIG, '--agent', 'billing-bot', '--tool', 'crm', '--method', 'POST', '--json', ...args);
    const decided = async (...args: string[]) => {
      const res = await crm(...args);
      expect(res.code).toBe(0);
      return JSON.parse(res.out) as { decision: string; rule_id: string | null; basis: string; input: { path: string } };
    };

    it('defaults --path to / and decides --mcp-tool, --mcp-resource and --mcp-prompt as the gateway does', async () => {
      expect(await decided('--mcp-tool', 'search_customers')).toMatchObject({ decision: 'allow', rule_id: 'crm-tools', input: { path: '/' } });
      expect(await decided('--mcp-tool', 'delete_customer')).toMatchObject({ decision: 'deny', rule_id: 'crm-never-delete' });
      expect(await decided('--mcp-resource', 'crm://customers/7')).toMatchObject({ decision: 'allow', rule_id: 'crm-read-customers' });
      expect(await decided('--mcp-resource', 'crm://internal/audit-log')).toMatchObject({ decision: 'deny', rule_id: null });
      expect(await decided('--mcp-prompt', 'summarise_customer')).toMatchObject({ decision: 'allow', rule_id: 'crm-prompts' });
      expect(await decided('--mcp-prompt', 'export_everything')).toMatchObject({ decision: 'deny', rule_id: null });
      expect(await decided('--mcp-method', 'completion/complete')).toMatchObject({ decision: 'allow', rule_id: 'crm-housekeeping' });
      expect(await decided('--mcp-method', 'tasks/cancel')).toMatchObject({ decision: 'deny', rule_id: null });
    });

    it('explains discovery as scope alone, and a path deny before the message', async () => {
      expect(await decided('--mcp-method', 'tools/list')).toMatchObject({ decision: 'allow', rule_id: null, basis: 'scope' });
      expect(await decided('--mcp-tool', 'search_customers', '--path', '/admin/x')).toMatchObject({ decision: 'deny', rule_id: 'crm-never-admin', basis: 'http' });
      const text = await run('explain', shipped, '--config', CONFIG, '--agent', 'billing-bot', '--tool', 'crm', '--method', 'GET');
      expect(text.out).toContain('decision: allow (scope alone)');
    });
  });

  it('answers a missing --agent, --tool, --method or --path with usage error 2', async () => {
    const res = await run('explain', dir, '--agent', 'bot');
    expect(res.code).toBe(2);
    expect(res.err).toContain('missing --tool, --method, --path');
  });
});

