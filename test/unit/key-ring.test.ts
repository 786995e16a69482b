// SPEC §17 "Signing keys", the verifier's side: which kids verify, how stale that answer may be, and what
// hostile kids can cost. Store reads are counted through a wrapper over the memory store's key sub-store.
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { KeyRing } from '../../src/sessions/key-ring.js';
import { KEY_STATUS_TTL_MS, PublishedKeys, UNKNOWN_KID_TTL_MS } from '../../src/sessions/published-keys.js';
import { generateSigningJwk, signingKeysFrom, type SigningKeys } from '../../src/sessions/signing-keys.js';
import { mintSessionToken } from '../../src/sessions/token-mint.js';
import { createTokenVerifier, type TokenVerifier } from '../../src/sessions/token-verify.js';
import type { KeyStore } from '../../src/store/key-types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ManualClock } from '../../src/util/clock.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

/** The memory key store, counting reads by kind. */
function countingKeys(inner: KeyStore) {
  const reads = { get: 0, list: 0 };
  const store: KeyStore = {
    publish: (key) => inner.publish(key),
    get: (kid) => {
      reads.get++;
      return inner.get(kid);
    },
    list: (options) => {
      reads.list++;
      return inner.list(options);
    },
    retire: (kid, now) => inner.retire(kid, now),
  };
  return { store, reads };
}

async function newKeys(clock: ManualClock): Promise<SigningKeys> {
  return signingKeysFrom([await generateSigningJwk(clock)], 'test');
}

const mint = (keys: Pick<SigningKeys, 'signingKey'>, clock: ManualClock) =>
  mintSessionToken(keys, { issuer: 'epochgate', audience: 'gw', agentId: 'bot', sessionId: 'ses_1', epoch: 1, scope: ['billing'], ttlMs: 900_000, now: clock.now() });

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error('expected a GatewayError');
}

describe('published signing keys: two replicas sharing one store', () => {
  let clock: ManualClock;
  let shared: MemoryStore;
  let a: KeyRing;
  let b: KeyRing;
  let reads: { get: number; list: number };
  let verifierB: TokenVerifier;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    shared = new MemoryStore();
    a = await KeyRing.open(await newKeys(clock), { store: shared.keys, clock });
    const counted = countingKeys(shared.keys);
    reads = counted.reads;
    b = await KeyRing.open(await newKeys(clock), { store: counted.store, clock });
    verifierB = createTokenVerifier({ resolveKey: (kid) => b.keyFor(kid), issuer: 'epochgate', audience: 'gw', clock });
  });

  it('verifies on B a token A signed: one store read on the miss, none while the kid is cached', async () => {
    const { token } = await mint({ signingKey: await a.signingKey() }, clock);
    expect((await verifierB.verify(token)).sessionId).toBe('ses_1');
    expect(reads.get).toBe(1);
    for (let i = 0; i < 50; i++) await verifierB.verify(token);
    const other = await mint({ signingKey: await a.signingKey() }, clock);
    await verifierB.verify(other.token);
    expect(reads.get).toBe(1);
    clock.advance(KEY_STATUS_TTL_MS);
    await verifierB.verify(token);
    expect(reads.get).toBe(2);
  });

  it('shares one store read between concurrent misses of the same kid', async () => {
    const { token } = await mint({ signingKey: await a.signingKey() }, clock);
    const results = await Promise.all(Array.from({ length: 10 }, () => verifierB.verify(token)));
    expect(results.map((r) => r.sessionId)).toEqual(Array(10).fill('ses_1'));
    expect(reads.get).toBe(1);
  });

  it('refuses on B a token of a key A retired, within the status TTL (also a cached token)', async () => {
    const { token } = await mint({ signingKey: await a.signingKey() }, clock);
    await verifierB.verify(token);
    const retired = await a.retire(a.current().signingKey.kid, clock.now());
    expect(retired.retiredAt).toBe(T0);
    clock.advance(KEY_STATUS_TTL_MS - 1);
    expect((await verifierB.verify(token)).sessionId).toBe('ses_1'); // B has not looked yet: the documented bound
    clock.advance(1);
    const err = await rejection(verifierB.verify(token));
    expect(err.code).toBe('token_invalid');
    expect(err.bearer).toBe(true);
  });

  it('refuses at once on the replica that retired the key', async () => {
    const verifierA = createTokenVerifier({ resolveKey: (kid) => a.keyFor(kid), issuer: 'epochgate', audience: 'gw', clock });
    const { token } = await mint({ signingKey: await a.signingKey() }, clock);
    await verifierA.verify(token);
    await a.retire(a.current().signingKey.kid, clock.now());
    expect((await rejection(verifierA.verify(token))).code).toBe('token_invalid');
  });

  it('never signs with a retired key: store_unavailable until a new key is loaded, also for anchors', async () => {
    const oldKid = a.current().signingKey.kid;
    await b.retire(oldKid, clock.now());
    clock.advance(KEY_STATUS_TTL_MS);
    const err = await rejection(a.signingKey());
    expect(err.code).toBe('store_unavailable');
    expect(err.message).toMatch(/signing key is retired/);
    expect(() => a.usableSigningKey()).toThrow(/retired/);
    await a.load(signingKeysFrom([await generateSigningJwk(clock)], 'rotated'));
    const fresh = await a.signingKey();
    expect(fresh.kid).not.toBe(oldKid);
    expect(a.usableSigningKey().kid).toBe(fresh.kid);
    // B verifies the new key from its first token on: it was published before it signed.
    expect((await verifierB.verify((await mint({ signingKey: fresh }, clock)).token)).sessionId).toBe('ses_1');
  });

  it('answers route_not_found when retiring a kid nobody published', async () => {
    const err = await rejection(a.retire('no-such-kid', clock.now()));
    expect(err.code).toBe('route_not_found');
    expect(err.status).toBe(404);
  });

  it('lists every unretired published key in the JWKS, read from the store at most once a second', async () => {
    const kids = (await b.jwks()).keys.map((k) => k.kid);
    expect(kids.sort()).toEqual([a.current().signingKey.kid, b.current().signingKey.kid].sort());
    expect((await b.jwks()).keys.every((k) => !('d' in k))).toBe(true);
    expect(reads.list).toBe(1);
    await a.retire(a.current().signingKey.kid, clock.now());
    clock.advance(1_000);
    expect((await b.jwks()).keys.map((k) => k.kid)).toEqual([b.current().signingKey.kid]);
    expect(reads.list).toBe(2);
  });
});

describe('published signing keys: hostile kids', () => {
  it('bounds store reads and memory for random kids, and keeps answering known kids from memory', async () => {
    const clock = new ManualClock(T0);
    const { store, reads } = countingKeys(new MemoryStore().keys);
    const published = new PublishedKeys({ store, clock, localKey: () => undefined, maxEntries: 100, missReadsPerSecond: 20 });
    const known = await newKeys(clock);
    const jwk = known.jwks().keys[0]!;
    await store.publish({ kid: jwk.kid, jwk: { ...jwk }, publishedAt: T0 });
    expect((await published.lookup(jwk.kid)).kind).toBe('usable');
    reads.get = 0;
    clock.advance(1_000); // the bucket is full again (its first token went on the known kid)
    // 10 000 random kids in one second: at most the bucket (20) reaches the store; every one is unknown.
    for (let i = 0; i < 10_000; i++) expect((await published.lookup(randomBytes(16).toString('base64url'))).kind).toBe('unknown');
    expect(reads.get).toBe(20);
    // Memory: the unknown-kid LRU holds at most maxEntries.
    expect((published as unknown as { unknown: { size: number } }).unknown.size).toBeLessThanOrEqual(100);
    // The known kid never left memory (its own LRU) and is still answered without a read.
    expect((await published.lookup(jwk.kid)).kind).toBe('usable');
    expect(reads.get).toBe(20);
    // The bucket refills with time: one more second, at most 20 more reads.
    clock.advance(1_000);
    for (let i = 0; i < 1_000; i++) await published.lookup(randomBytes(16).toString('base64url'));
    expect(reads.get).toBe(40);
  });

  it('remembers an unknown kid only briefly: it is read again after the negative TTL', async () => {
    const clock = new ManualClock(T0);
    const { store, reads } = countingKeys(new MemoryStore().keys);
    const published = new PublishedKeys({ store, clock, localKey: () => undefined });
    expect((await published.lookup('later')).kind).toBe('unknown');
    expect((await published.lookup('later')).kind).toBe('unknown');
    expect(reads.get).toBe(1);
    const keys = await newKeys(clock);
    const jwk = { ...keys.jwks().keys[0]!, kid: 'later' };
    await store.publish({ kid: 'later', jwk, publishedAt: T0 });
    clock.advance(UNKNOWN_KID_TTL_MS);
    expect((await published.lookup('later')).kind).toBe('usable');
    expect(reads.get).toBe(2);
  });

  it('fails closed when the store does not answer: store_unavailable, nothing cached', async () => {
    const clock = new ManualClock(T0);
    const memory = new MemoryStore();
    const published = new PublishedKeys({ store: memory.keys, clock, localKey: () => undefined });
    await memory.close();
    expect((await rejection(Promise.resolve(published.lookup('any')))).code).toBe('store_unavailable');
    expect(published.lastKnown('any')).toBeUndefined();
  });
});

describe('publishing', () => {
  it('refuses a key set whose kid is already published with another public key, keeping the last good set', async () => {
    const clock = new ManualClock(T0);
    const shared = new MemoryStore();
    const ring = await KeyRing.open(await newKeys(clock), { store: shared.keys, clock });
    const before = ring.current();
    const other = await generateSigningJwk(clock);
    const squatter = await generateSigningJwk(clock);
    await shared.keys.publish({ kid: other.kid, jwk: { kty: 'OKP', crv: 'Ed25519', x: squatter.x, kid: other.kid, alg: 'EdDSA', use: 'sig' }, publishedAt: T0 });
    await expect(ring.load(signingKeysFrom([other], 'clash'))).rejects.toThrow(/already published with another public key/);
    expect(ring.current()).toBe(before);
    expect((await ring.signingKey()).kid).toBe(before.signingKey.kid);
  });
});
