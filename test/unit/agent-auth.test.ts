import { createServer } from 'node:net';
import { createLocalJWKSet, createRemoteJWKSet, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTVerifyGetKey } from 'jose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { AgentCredential, AgentDef, PolicySnapshot } from '../../src/policy/types.js';
import { assertionFailure, createAgentAuthenticator, type AgentAuthenticator } from '../../src/sessions/agent-auth.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { Store } from '../../src/store/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { sha256Hex } from '../../src/util/hash.js';

// The real memory store (same assertion-id contract as sqlite), with the keys it was asked to record
// kept aside so tests can see what agent-auth wrote.
function fakeStore(): Store & { used: Map<string, number> } {
  const real = new MemoryStore();
  const used = new Map<string, number>();
  const assertionIds = {
    async use(key: string, expiresAt: number, now: number) {
      const first = await real.assertionIds.use(key, expiresAt, now);
      if (first) used.set(key, expiresAt);
      return first;
    },
  };
  return Object.assign(Object.create(real) as Store, { used, assertionIds });
}

const ISSUER = 'epochgate-gw';
const WORKLOAD_ISS = 'https://workload-idp.example';
const WORKLOAD_SUB = 'spiffe://example.org/bot';
const SECRET = 'correct horse battery staple';

let es256: { privateKey: CryptoKey; publicKey: CryptoKey };
let jwks: JWTVerifyGetKey;
let clock: ManualClock;
let store: ReturnType<typeof fakeStore>;
let auth: AgentAuthenticator;

function agent(over: Partial<AgentDef> = {}, credentials?: AgentCredential[]): AgentDef {
  return {
    id: 'bot', enabled: true, roles: ['r'], notBefore: null,
    credentials: credentials ?? [
      { type: 'secret', sha256: sha256Hex('an older secret') },
      { type: 'secret', sha256: sha256Hex(SECRET) },
      { type: 'jwt', issuer: WORKLOAD_ISS, subject: WORKLOAD_SUB, keys: jwks },
    ],
    ...over,
  };
}
function policy(...agents: AgentDef[]): PolicySnapshot {
  return { agents: new Map(agents.map((a) => [a.id, a])), people: new Map() } as unknown as PolicySnapshot;
}

async function assertion(over: Record<string, unknown> = {}, opts: { alg?: string; key?: CryptoKey | Uint8Array; lifetime?: number } = {}) {
  const iat = Math.floor(clock.now() / 1000);
  return new SignJWT({ jti: `a-${Math.random()}`, ...over })
    .setProtectedHeader({ alg: opts.alg ?? 'ES256' })
    .setIssuer(WORKLOAD_ISS)
    .setSubject(WORKLOAD_SUB)
    .setAudience(ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (opts.lifetime ?? 120))
    .sign(opts.key ?? es256.privateKey);
}

async function rejects(promise: Promise<unknown>, code: string): Promise<GatewayError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(GatewayError);
  expect((err as GatewayError).code).toBe(code);
  // Credentials arrive in a JSON body: never a bearer challenge (SPEC §12).
  expect((err as GatewayError).bearer).toBe(false);
  return err as GatewayError;
}

beforeAll(async () => {
  es256 = await generateKeyPair('ES256');
  jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(es256.publicKey)), alg: 'ES256' }] });
});
beforeEach(() => {
  clock = new ManualClock();
  store = fakeStore();
  auth = createAgentAuthenticator({ store, issuer: ISSUER, clock });
});

describe('agent-auth: shape', () => {
  it('requires exactly one of client_secret and client_assertion (invalid_request)', async () => {
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot' }), 'invalid_request');
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_secret: SECRET, client_assertion: await assertion() }), 'invalid_request');
  });
});

describe('agent-auth: client_secret', () => {
  it('accepts a secret matching any of the agent secret credentials', async () => {
    await expect(auth.authenticate(policy(agent()), { agent_id: 'bot', client_secret: SECRET })).resolves.toMatchObject({ id: 'bot' });
    await expect(auth.authenticate(policy(agent()), { agent_id: 'bot', client_secret: 'an older secret' })).resolves.toMatchObject({ id: 'bot' });
  });

  it('rejects a wrong secret and an unknown agent alike (credential_invalid)', async () => {
    const wrong = await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_secret: 'nope' }), 'credential_invalid');
    const unknown = await rejects(auth.authenticate(policy(agent()), { agent_id: 'ghost', client_secret: SECRET }), 'credential_invalid');
    expect(unknown.message).toBe(wrong.message);
    expect(wrong.message).not.toContain('nope');
  });

  it('rejects a secret for an agent that only has jwt credentials', async () => {
    const jwtOnly = agent({}, [{ type: 'jwt', issuer: WORKLOAD_ISS, subject: WORKLOAD_SUB, keys: jwks }]);
    await rejects(auth.authenticate(policy(jwtOnly), { agent_id: 'bot', client_secret: SECRET }), 'credential_invalid');
  });

  it('answers agent_disabled for a disabled agent whose secret verifies, credential_invalid if it does not', async () => {
    await rejects(auth.authenticate(policy(agent({ enabled: false })), { agent_id: 'bot', client_secret: SECRET }), 'agent_disabled');
    await rejects(auth.authenticate(policy(agent({ enabled: false })), { agent_id: 'bot', client_secret: 'x' }), 'credential_invalid');
  });

  it('rejects a secret while not_before is in the future', async () => {
    await rejects(auth.authenticate(policy(agent({ notBefore: clock.now() + 1 })), { agent_id: 'bot', client_secret: SECRET }), 'credential_invalid');
    const atNotBefore = agent({ notBefore: clock.now() });
    await expect(auth.authenticate(policy(atNotBefore), { agent_id: 'bot', client_secret: SECRET })).resolves.toBe(atNotBefore);
  });
});

describe('agent-auth: client_assertion (RFC 7523)', () => {
  it('accepts a good ES256 assertion and records its jti under the credential issuer', async () => {
    await expect(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: await assertion({ jti: 'one' }) })).resolves.toMatchObject({ id: 'bot' });
    expect(store.used.get(`${WORKLOAD_ISS}\none`)).toBe((Math.floor(clock.now() / 1000) + 120 + 5) * 1000);
  });

  it('accepts an EdDSA assertion from a second jwt credential', async () => {
    const ed = await generateKeyPair('EdDSA');
    const edKeys = createLocalJWKSet({ keys: [await exportJWK(ed.publicKey)] });
    const two = agent({}, [
      { type: 'jwt', issuer: WORKLOAD_ISS, subject: WORKLOAD_SUB, keys: jwks },
      { type: 'jwt', issuer: WORKLOAD_ISS, subject: WORKLOAD_SUB, keys: edKeys },
    ]);
    await expect(auth.authenticate(policy(two), { agent_id: 'bot', client_assertion: await assertion({ jti: 'ed' }, { alg: 'EdDSA', key: ed.privateKey }) })).resolves.toBe(two);
    expect([...store.used.keys()]).toEqual([`${WORKLOAD_ISS}\ned`]);
  });

  it('refuses a second use of the same assertion (assertion_replayed)', async () => {
    const a = await assertion();
    await auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: a });
    clock.advance(10_000);
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: a }), 'assertion_replayed');
  });

  it('burns the jti even when the agent is disabled, so it cannot be replayed after re-enabling', async () => {
    const a = await assertion();
    await rejects(auth.authenticate(policy(agent({ enabled: false })), { agent_id: 'bot', client_assertion: a }), 'agent_disabled');
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: a }), 'assertion_replayed');
  });

  it('refuses HS256, even keyed with the public key JWK', async () => {
    const pub = await exportJWK(es256.publicKey);
    const secret = new TextEncoder().encode(JSON.stringify(pub));
    const hs = await assertion({}, { alg: 'HS256', key: secret });
    const withHmacKey = agent({}, [{ type: 'jwt', issuer: WORKLOAD_ISS, subject: WORKLOAD_SUB, keys: createLocalJWKSet({ keys: [{ kty: 'oct', k: Buffer.from(secret).toString('base64url') }] }) }]);
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: hs }), 'credential_invalid');
    await rejects(auth.authenticate(policy(withHmacKey), { agent_id: 'bot', client_assertion: hs }), 'credential_invalid');
    expect(store.used.size).toBe(0);
  });

  it('refuses exp − iat of 600 s (over 5 minutes)', async () => {
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: await assertion({}, { lifetime: 600 }) }), 'credential_invalid');
    const bot = agent();
    await expect(auth.authenticate(policy(bot), { agent_id: 'bot', client_assertion: await assertion({}, { lifetime: 300 }) })).resolves.toBe(bot);
  });

  it('refuses a wrong audience, issuer or subject', async () => {
    for (const over of [{ aud: 'someone-else' }, { iss: 'https://other-idp' }, { sub: 'spiffe://example.org/other' }]) {
      const iat = Math.floor(clock.now() / 1000);
      const a = await new SignJWT({ jti: 'x', iss: WORKLOAD_ISS, sub: WORKLOAD_SUB, aud: ISSUER, iat, exp: iat + 60, ...over }).setProtectedHeader({ alg: 'ES256' }).sign(es256.privateKey);
      await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: a }), 'credential_invalid');
    }
  });

  it('refuses missing jti, iat or exp', async () => {
    const iat = Math.floor(clock.now() / 1000);
    const base = { iss: WORKLOAD_ISS, sub: WORKLOAD_SUB, aud: ISSUER, jti: 'j', iat, exp: iat + 60 };
    for (const drop of ['jti', 'iat', 'exp'] as const) {
      const claims: Record<string, unknown> = { ...base };
      delete claims[drop];
      const a = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(es256.privateKey);
      await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: a }), 'credential_invalid');
    }
    const numericJtiClaims: Record<string, unknown> = { ...base, jti: 5 };
    const numericJti = await new SignJWT(numericJtiClaims).setProtectedHeader({ alg: 'ES256' }).sign(es256.privateKey);
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: numericJti }), 'credential_invalid');
  });

  it('refuses an expired assertion, and one issued in the future', async () => {
    const a = await assertion();
    clock.advance(126_000);
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: a }), 'credential_invalid');
    clock.advance(-126_000 - 3_600_000); // the assertion's iat is now an hour ahead
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: a }), 'credential_invalid');
  });

  it('refuses an assertion signed by another key, and garbage', async () => {
    const other = await generateKeyPair('ES256');
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: await assertion({}, { key: other.privateKey }) }), 'credential_invalid');
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: 'not.a.jwt' }), 'credential_invalid');
  });

  it('refuses an assertion issued before not_before (credential_invalid), accepts one issued at it', async () => {
    const a = await assertion();
    await rejects(auth.authenticate(policy(agent({ notBefore: clock.now() + 1000 })), { agent_id: 'bot', client_assertion: a }), 'credential_invalid');
    const atNotBefore = agent({ notBefore: clock.now() });
    await expect(auth.authenticate(policy(atNotBefore), { agent_id: 'bot', client_assertion: await assertion() })).resolves.toBe(atNotBefore);
  });

  it('treats an unknown agent as credential_invalid without touching the store', async () => {
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'ghost', client_assertion: await assertion() }), 'credential_invalid');
    expect(store.used.size).toBe(0);
  });

  it('fails closed with credential_invalid "key set unavailable" when a remote JWKS cannot be fetched', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as { port: number };
        server.close(() => resolve(p));
      });
    });
    const remote = createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/jwks.json`), { timeoutDuration: 2000 });
    const remoteAgent = agent({}, [{ type: 'jwt', issuer: WORKLOAD_ISS, subject: WORKLOAD_SUB, keys: remote }]);
    const err = await rejects(auth.authenticate(policy(remoteAgent), { agent_id: 'bot', client_assertion: await assertion() }), 'credential_invalid');
    expect(err.message).toBe('key set unavailable');
    expect(store.used.size).toBe(0);
  });

  it('propagates store failures (fail closed)', async () => {
    const broken = { assertionIds: { use: async () => { throw new GatewayError('store_unavailable'); } } } as unknown as Store;
    const a = createAgentAuthenticator({ store: broken, issuer: ISSUER, clock });
    await rejects(a.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: await assertion() }), 'store_unavailable');
  });
});

describe('agent-auth: the detail of each refusal', () => {
  it('says what was wrong, and nothing of the credential', async () => {
    const message = 'exactly one of client_secret and client_assertion is required';
    const both = await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot' }), 'invalid_request');
    expect({ detail: both.message, fields: both.fields }).toEqual({ detail: message, fields: { errors: [{ path: '', message }] } });
    const bad = await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_secret: 'x' }), 'credential_invalid');
    expect(bad.message).toBe('The agent credential does not verify');
    const early = await rejects(auth.authenticate(policy(agent({ notBefore: clock.now() + 1 })), { agent_id: 'bot', client_secret: SECRET }), 'credential_invalid');
    expect(early.message).toBe('The credential was issued before the agent not_before');
    const a = await assertion();
    await auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: a });
    const again = await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: a }), 'assertion_replayed');
    expect(again.message).toBe('This client assertion (jti) was already used');
  });

  it('answers an assertion no key verifies as not verifying, not as a key set that is unavailable', async () => {
    const stranger = await generateKeyPair('ES256');
    const err = await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: await assertion({}, { key: stranger.privateKey }) }), 'credential_invalid');
    expect(err.message).toBe('The agent credential does not verify');
  });

  it('refuses an assertion whose jti is empty', async () => {
    await rejects(auth.authenticate(policy(agent()), { agent_id: 'bot', client_assertion: await assertion({ jti: '' }) }), 'credential_invalid');
    expect(store.used.size).toBe(0);
  });

  it.each(['ES384', 'RS256', 'PS256'])('accepts an assertion signed with %s', async (alg) => {
    const pair = await generateKeyPair(alg);
    const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), alg }] });
    const only = agent({}, [{ type: 'jwt', issuer: WORKLOAD_ISS, subject: WORKLOAD_SUB, keys }]);
    await expect(auth.authenticate(policy(only), { agent_id: 'bot', client_assertion: await assertion({}, { alg, key: pair.privateKey }) })).resolves.toBe(only);
  });
});

describe('assertionFailure', () => {
  it.each([
    ['ERR_JWKS_TIMEOUT', 'key set unavailable'],
    ['ERR_JWKS_INVALID', 'key set unavailable'],
    ['ERR_JOSE_GENERIC', 'key set unavailable'],
    ['ECONNREFUSED', 'key set unavailable'],
    ['ERR_JWT_EXPIRED', 'does not verify'],
    ['ERR_JWT_CLAIM_VALIDATION_FAILED', 'does not verify'],
    ['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'does not verify'],
    ['ERR_JOSE_ALG_NOT_ALLOWED', 'does not verify'],
    ['ERR_JOSE_NOT_SUPPORTED', 'does not verify'],
    ['ERR_JWS_INVALID', 'does not verify'],
    ['ERR_JWT_INVALID', 'does not verify'],
    ['ERR_JWK_INVALID', 'does not verify'],
    ['ERR_JWKS_NO_MATCHING_KEY', 'does not verify'],
    ['ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'does not verify'],
  ])('maps %s to "%s"', (code, expected) => {
    expect(assertionFailure(Object.assign(new Error('x'), { code }))).toBe(expected);
  });

  it('takes anything without a jose code for an unreachable key set', () => {
    expect([assertionFailure(null), assertionFailure(new TypeError('fetch failed')), assertionFailure({ code: '' })]).toEqual([
      'key set unavailable',
      'key set unavailable',
      'key set unavailable',
    ]);
  });
});
