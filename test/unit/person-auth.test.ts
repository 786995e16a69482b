import { describe, expect, it } from 'vitest';
import { runSecretNew } from '../../src/cli/secret-new.js';
import { problemReply } from '../../src/errors/problem.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { PersonDef, PolicySnapshot } from '../../src/policy/types.js';
import { authenticatePerson } from '../../src/sessions/person-auth.js';
import { sha256Hex } from '../../src/util/hash.js';

const ALICE = 'alice-secret-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const ALICE_OLD = 'alice-old-secret';
const ADMIN = 'admin_secret-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';

function policy(...people: PersonDef[]): PolicySnapshot {
  return { agents: new Map(), people: new Map(people.map((p) => [p.id, p])) } as unknown as PolicySnapshot;
}
const alice: PersonDef = { id: 'alice', roles: ['finance-approver'], secretSha256: [sha256Hex(ALICE_OLD), sha256Hex(ALICE)] };
const admin: PersonDef = { id: 'sec-admin', roles: ['admin'], secretSha256: [sha256Hex(ADMIN)] };
const people = policy(alice, admin);

function failure(header: string | undefined, snapshot = people): GatewayError {
  try {
    authenticatePerson(snapshot, header);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error('expected a GatewayError');
}

describe('authenticatePerson', () => {
  it('finds the person by any of their secrets; the scheme is case-insensitive', () => {
    expect(authenticatePerson(people, `Bearer ${ALICE}`).id).toBe('alice');
    expect(authenticatePerson(people, `bearer ${ALICE_OLD}`).id).toBe('alice');
    expect(authenticatePerson(people, `BEARER  ${ADMIN}`).id).toBe('sec-admin');
  });

  it('answers token_missing (challenge without error code) when there is no credential', () => {
    for (const header of [undefined, '', '  ']) {
      const err = failure(header);
      expect(err.code).toBe('token_missing');
      expect(problemReply(err, 'req_1').headers['www-authenticate']).toBe('Bearer realm="epochgate"');
    }
  });

  it('answers credential_invalid with a bearer challenge when no person matches', () => {
    const err = failure('Bearer not-a-known-secret');
    expect(err.code).toBe('credential_invalid');
    expect(err.bearer).toBe(true);
    const reply = problemReply(err, 'req_1');
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('Bearer realm="epochgate", error="invalid_token", error_description="credential_invalid"');
    expect(reply.body).not.toContain('not-a-known-secret');
  });

  it('rejects other schemes and malformed headers as credential_invalid', () => {
    for (const header of [`Basic ${ALICE}`, `Bearer`, `Bearer ${ALICE} extra`, ALICE, `Bearer ${ALICE},Bearer x`]) {
      expect(failure(header).code).toBe('credential_invalid');
    }
  });

  it('never matches an agent or a person with no secrets', () => {
    const none = policy({ id: 'bob', roles: [], secretSha256: [] });
    expect(failure(`Bearer ${ALICE}`, none).code).toBe('credential_invalid');
  });

  it('refuses a secret shared by two people (ambiguous identity)', () => {
    const twin: PersonDef = { id: 'twin', roles: ['admin'], secretSha256: [sha256Hex(ALICE)] };
    expect(failure(`Bearer ${ALICE}`, policy(alice, twin)).code).toBe('credential_invalid');
  });
});

describe('epochgate secret new', () => {
  const capture = () => {
    const out = { stdout: '', stderr: '' };
    return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
  };

  it('prints a 32-byte base64url secret and the sha256 line that authenticates it', async () => {
    const run = capture();
    expect(await runSecretNew([], run.io)).toBe(0);
    const [secret, line] = run.out.stdout.trimEnd().split('\n') as [string, string];
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    const digest = /^sha256: "([0-9a-f]{64})"$/.exec(line)![1]!;
    expect(digest).toBe(sha256Hex(secret));
    const person: PersonDef = { id: 'carol', roles: [], secretSha256: [digest] };
    expect(authenticatePerson(policy(person), `Bearer ${secret}`).id).toBe('carol');
    const again = capture();
    await runSecretNew([], again.io);
    expect(again.out.stdout).not.toBe(run.out.stdout);
  });

  it('prints help with exit 0 and rejects arguments with exit 2', async () => {
    const help = capture();
    expect(await runSecretNew(['--help'], help.io)).toBe(0);
    expect(help.out.stdout).toContain('Usage: epochgate secret new');
    expect(await runSecretNew(['--length', '8'], capture().io)).toBe(2);
  });
});
