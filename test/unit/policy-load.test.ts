import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadPolicyDir, PolicyError, validatePolicyDir } from '../../src/policy/load.js';
import { basePolicy, HEADER, SHA_A, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';

const TOOLS = new Set(['billing', 'crm']);
const ALLOW = '  - id: r1\n    effect: allow\n    tools: [billing]\n';

async function failure(files: Record<string, string>, toolNames: ReadonlySet<string> | undefined = TOOLS): Promise<PolicyError> {
  try {
    await loadPolicyDir(writePolicyDir(files), { now: 0, ...(toolNames ? { toolNames } : {}) });
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error('expected a PolicyError');
}

describe('loadPolicyDir', () => {
  it('loads every *.yaml file sorted by name, skipping *.test.yaml and other files', async () => {
    const dir = writePolicyDir({
      'b.yaml': `${HEADER}rules:\n  - id: from-b\n    effect: allow\n`,
      'a.yaml': basePolicy(ALLOW),
      'a.test.yaml': 'not: a policy',
      'notes.txt': 'ignored',
    });
    const snapshot = await loadPolicyDir(dir, { now: 1234, toolNames: TOOLS });
    expect(snapshot.files).toEqual(['a.yaml', 'b.yaml']);
    expect(snapshot.rules.map((r) => [r.id, r.file])).toEqual([['r1', 'a.yaml'], ['from-b', 'b.yaml']]);
    expect(snapshot.loadedAt).toBe(1234);
    expect(snapshot.revision).toMatch(/^[0-9a-f]{64}$/);
    expect(snapshot.sessions).toEqual({ tokenTtlMs: 900_000, leaseTtlMs: 300_000, maxAgeMs: 86_400_000, maxResumes: 100 });
    expect(snapshot.agents.get('bot')).toMatchObject({ id: 'bot', enabled: true, roles: ['agent-role'], notBefore: null, credentials: [{ type: 'secret', sha256: SHA_A }] });
    expect(snapshot.people.get('pat')).toEqual({ id: 'pat', roles: ['approver'], secretSha256: [SHA_A] });
    expect(Object.isFrozen(snapshot)).toBe(true);
  });

  it('refuses a __proto__ key wherever it is (validation would not see it), naming each with its line', async () => {
    const err = await failure({
      'a.yaml': `${HEADER}__proto__: {}\nagents:\n  __proto__:\n    credentials: [{ type: secret, sha256: "${SHA_A}" }]\nrules:\n  - id: r1\n    effect: allow\n    __proto__: { tools: [crm] }\n`,
    });
    expect(err.issues.map((i) => [i.path, i.line, i.message])).toEqual([
      ['__proto__', 3, 'the key name __proto__ is reserved'],
      ['agents.__proto__', 5, 'the key name __proto__ is reserved'],
      ['rules[0].__proto__', 10, 'the key name __proto__ is reserved'],
    ]);
  });

  it('applies a sessions block and not_before', async () => {
    const snapshot = await loadPolicyDir(
      writePolicyDir({
        'a.yaml': `${HEADER}agents:\n  bot:\n    not_before: "2026-11-01T00:00:00Z"\n    credentials: [{ type: secret, sha256: "${SHA_A}" }]\nsessions:\n  token_ttl: 90s\n  max_resumes: 3\n`,
      }),
      { now: 0 },
    );
    expect(snapshot.sessions).toEqual({ tokenTtlMs: 90_000, leaseTtlMs: 300_000, maxAgeMs: 86_400_000, maxResumes: 3 });
    expect(snapshot.agents.get('bot')?.notBefore).toBe(Date.UTC(2026, 10, 1));
  });

  it('rejects an unknown key with file, key path and line', async () => {
    const err = await failure({ 'a.yaml': basePolicy(`${ALLOW}    colour: red\n`) });
    expect(err.issues).toEqual([expect.objectContaining({ path: 'rules[0].colour', line: 15, message: 'unknown key' })]);
    expect(err.issues[0]?.file).toMatch(/a\.yaml$/);
    expect(err.message).toMatch(/a\.yaml:15: rules\[0\]\.colour: unknown key/);
  });

  it('rejects a wrong apiVersion or kind', async () => {
    const err = await failure({ 'a.yaml': 'apiVersion: epochgate/v2\nkind: Polcy\n' });
    expect(err.issues.map((i) => [i.path, i.line])).toEqual([['apiVersion', 1], ['kind', 2]]);
  });

  it('rejects a rule id used in two files, naming both places', async () => {
    const err = await failure({ 'a.yaml': basePolicy(ALLOW), 'b.yaml': `${HEADER}rules:\n${ALLOW}` });
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({ path: 'rules[0].id', line: 4 });
    expect(err.issues[0]?.file).toMatch(/b\.yaml$/);
    expect(err.issues[0]?.message).toMatch(/duplicate rule id "r1" \(first at .*a\.yaml:\d+\)/);
  });

  it('rejects an agent defined in two files, and a person sharing an agent name', async () => {
    const again = `${HEADER}agents:\n  bot:\n    credentials: [{ type: secret, sha256: "${SHA_A}" }]\npeople:\n  bot2:\n    credentials: [{ type: secret, sha256: "${SHA_A}" }]\n`;
    const err = await failure({ 'a.yaml': basePolicy(ALLOW), 'b.yaml': again, 'c.yaml': `${HEADER}people:\n  bot:\n    credentials: [{ type: secret, sha256: "${SHA_A}" }]\n` });
    expect(err.issues.map((i) => [i.file.slice(-6), i.path, i.line])).toEqual([
      ['b.yaml', 'agents.bot', 4],
      ['c.yaml', 'people.bot', 4],
    ]);
  });

  it('rejects a second sessions block', async () => {
    const err = await failure({ 'a.yaml': basePolicy(ALLOW, 'sessions: { max_resumes: 1 }\n'), 'b.yaml': `${HEADER}sessions:\n  max_resumes: 2\n` });
    expect(err.issues).toEqual([expect.objectContaining({ path: 'sessions', line: 3 })]);
    expect(err.issues[0]?.message).toContain('at most one file');
  });

  it('rejects bad globs in paths and mcp_tools', async () => {
    const err = await failure({ 'a.yaml': basePolicy(`${ALLOW}    paths: ["/ok/**", "/a**b", "/x//y"]\n    mcp_tools: ["", "ok_*"]\n`) });
    expect(err.issues.map((i) => i.path)).toEqual(['rules[0].paths[1]', 'rules[0].paths[2]', 'rules[0].mcp_tools[0]']);
    expect(err.issues[0]?.message).toContain('bad glob');
  });

  it('rejects bad durations', async () => {
    const approval = '  - id: r2\n    effect: require_approval\n    approval: { approvers: [approver], ttl: 1 hour, hold: -1s }\n';
    const err = await failure({ 'a.yaml': basePolicy(approval, 'sessions:\n  lease_ttl: 5min\n  token_ttl: 2d\n') });
    expect(err.issues.map((i) => i.path)).toEqual(['rules[0].approval.ttl', 'rules[0].approval.hold', 'sessions.token_ttl', 'sessions.lease_ttl']);
    expect(err.issues[0]?.message).toContain('duration');
  });

  it('rejects a rule naming a tool the operator config does not define', async () => {
    const err = await failure({ 'a.yaml': basePolicy('  - id: r1\n    effect: allow\n    tools: [billing, payroll]\n') });
    expect(err.issues).toEqual([expect.objectContaining({ path: 'rules[0].tools[1]', line: 14, message: 'tool "payroll" is not defined in the operator config' })]);
  });

  it('does not check tool names without a tool list, and says so', async () => {
    const result = await validatePolicyDir(writePolicyDir({ 'a.yaml': basePolicy('  - id: r1\n    effect: allow\n    tools: [payroll]\n') }), { now: 0 });
    expect(result.issues).toEqual([]);
    expect(result.toolNamesChecked).toBe(false);
    expect(result.snapshot?.rules.map((rule) => rule.id)).toEqual(['r1']);
  });

  it('requires approval for require_approval and forbids it otherwise', async () => {
    const err = await failure({
      'a.yaml': basePolicy('  - id: r1\n    effect: require_approval\n  - id: r2\n    effect: allow\n    approval: { approvers: [approver], ttl: 1h, hold: 0s }\n'),
    });
    expect(err.issues.map((i) => [i.path, i.message])).toEqual([
      ['rules[0].approval', 'required when effect is require_approval'],
      ['rules[1].approval', 'only allowed when effect is require_approval'],
    ]);
  });

  it('rejects roles and agents on the same rule, and admin outside people', async () => {
    const err = await failure({ 'a.yaml': basePolicy('  - id: r1\n    effect: allow\n    roles: [agent-role]\n    agents: [bot]\n  - id: r2\n    effect: allow\n    roles: [admin]\n') });
    expect(err.issues.map((i) => i.path)).toEqual(['rules[0].agents', 'rules[1].roles']);
    const agentAdmin = await failure({ 'a.yaml': `${HEADER}agents:\n  bot:\n    roles: [admin]\n    credentials: [{ type: secret, sha256: "${SHA_A}" }]\n` });
    expect(agentAdmin.issues[0]).toMatchObject({ path: 'agents.bot.roles', line: 5 });
  });

  it('rejects a secret hash that is not 64 lowercase hex characters', async () => {
    const err = await failure({ 'a.yaml': `${HEADER}people:\n  pat:\n    credentials: [{ type: secret, sha256: "${'A'.repeat(64)}" }, { type: secret, sha256: "abc" }]\n` });
    expect(err.issues.map((i) => i.path)).toEqual(['people.pat.credentials[0].sha256', 'people.pat.credentials[1].sha256']);
  });

  it('upper-cases methods and rejects ones that are not HTTP tokens', async () => {
    const ok = await loadPolicyDir(writePolicyDir({ 'a.yaml': basePolicy(`${ALLOW}    methods: [get, Post]\n`) }), { now: 0 });
    expect(ok.rules[0]?.methods).toEqual(['GET', 'POST']);
    const err = await failure({ 'a.yaml': basePolicy(`${ALLOW}    methods: ["GET /x"]\n`) });
    expect(err.issues[0]?.path).toBe('rules[0].methods[0]');
  });

  it('loads a jwks_file relative to the policy file and fails when it is missing or bad', async () => {
    const { publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwt = (file: string) => `${HEADER}agents:\n  bot:\n    credentials:\n      - type: jwt\n        issuer: "https://idp.example"\n        subject: "spiffe://x/bot"\n        jwks_file: "${file}"\n`;
    const dir = writePolicyDir({ 'a.yaml': jwt('keys/bot.jwks.json') });
    await expect(loadPolicyDir(dir, { now: 0 })).rejects.toThrow(/a\.yaml:9: agents\.bot\.credentials\[0\]\.jwks_file: cannot read the JWKS file/);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, 'keys/bot.jwks.json'), '{"keys": "nope"}');
    await expect(loadPolicyDir(dir, { now: 0 })).rejects.toThrow(/has no "keys"/);
    writeFileSync(join(dir, 'keys/bot.jwks.json'), JSON.stringify({ keys: [await exportJWK(publicKey)] }));
    const snapshot = await loadPolicyDir(dir, { now: 0 });
    const cred = snapshot.agents.get('bot')?.credentials[0];
    expect(cred).toMatchObject({ type: 'jwt', issuer: 'https://idp.example', subject: 'spiffe://x/bot' });
    expect(cred?.type === 'jwt' && typeof cred.keys).toBe('function');
  });

  it('requires exactly one of jwks_file and jwks_url', async () => {
    const err = await failure({
      'a.yaml': `${HEADER}agents:\n  bot:\n    credentials:\n      - { type: jwt, issuer: i, subject: s }\n      - { type: jwt, issuer: i, subject: s, jwks_file: a.json, jwks_url: "https://x/jwks" }\n`,
    });
    expect(err.issues.map((i) => i.path)).toEqual(['agents.bot.credentials[0]', 'agents.bot.credentials[1]']);
  });

  it('never applies part of a directory: one good and one bad file is a failure naming only the bad one', async () => {
    const err = await failure({ 'a.yaml': basePolicy(ALLOW), 'b.yaml': `${HEADER}rules:\n  - id: r9\n    effect: permit\n` });
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]).toMatchObject({ path: 'rules[0].effect', line: 5 });
    expect(err.files).toEqual(['a.yaml', 'b.yaml']);
  });

  it('collects the errors of every file instead of stopping at the first', async () => {
    const err = await failure({ 'a.yaml': `${HEADER}bogus: 1\n`, 'b.yaml': 'apiVersion: [\n', 'c.yaml': `${HEADER}rules:\n  - id: x\n    effect: allow\n    tools: [nope]\n` });
    expect(err.issues.map((i) => i.file.slice(-6))).toEqual(['a.yaml', 'b.yaml', 'c.yaml']);
  });

  it('warns (does not fail) on a rule role no agent holds and an approver role no person holds', async () => {
    const result = await validatePolicyDir(
      writePolicyDir({ 'a.yaml': basePolicy('  - id: r1\n    effect: require_approval\n    roles: [ghost]\n    approval: { approvers: [nobody], ttl: 1h, hold: 0s }\n') }),
      { now: 0, toolNames: TOOLS },
    );
    expect(result.issues).toEqual([]);
    expect(result.warnings.map((w) => w.path)).toEqual(['rules[0].roles[0]', 'rules[0].approval.approvers[0]']);
    expect(result.snapshot?.warnings[0]).toMatch(/a\.yaml:\d+: rules\[0\]\.roles\[0\]: role "ghost" is held by no agent/);
  });

  it('fails on an empty or missing directory', async () => {
    await expect(loadPolicyDir(writePolicyDir({}), { now: 0 })).rejects.toThrow(/no policy files/);
    await expect(loadPolicyDir('/nonexistent/policies', { now: 0 })).rejects.toThrow(PolicyError);
  });
});

describe('policy revision', () => {
  it('changes when content changes and not otherwise', async () => {
    const dir = writePolicyDir({ 'a.yaml': basePolicy(ALLOW) });
    const first = await loadPolicyDir(dir, { now: 0 });
    const again = await loadPolicyDir(dir, { now: 99 });
    expect(again.revision).toBe(first.revision);
    writeFileSync(join(dir, 'a.yaml'), `${basePolicy(ALLOW)}# a comment is content too\n`);
    const changed = await loadPolicyDir(dir, { now: 0 });
    expect(changed.revision).not.toBe(first.revision);
    writeFileSync(join(dir, 'z.test.yaml'), 'tests do not count');
    expect((await loadPolicyDir(dir, { now: 0 })).revision).toBe(changed.revision);
  });

  it('depends on file names, not only contents', async () => {
    const a = await loadPolicyDir(writePolicyDir({ 'a.yaml': basePolicy(ALLOW) }), { now: 0 });
    const b = await loadPolicyDir(writePolicyDir({ 'b.yaml': basePolicy(ALLOW) }), { now: 0 });
    expect(a.revision).not.toBe(b.revision);
  });
});
