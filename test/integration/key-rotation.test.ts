// SPEC §17 "Signing keys" with two in-process replicas sharing one store object, each with its own key file:
// a token either one signs verifies on the other, an admin's retire through one replica makes the key's
// tokens token_invalid on both (at once here, within the status TTL there), and a new key loaded without a
// restart signs from then on. One shared clock: the TTL is crossed by moving it, never by sleeping.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_STATUS_TTL_MS } from '../../src/sessions/published-keys.js';
import { generateKeyInto } from '../../src/sessions/signing-keys.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ManualClock, rfc3339 } from '../../src/util/clock.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { ADMIN_SECRET, AGENT_SECRET, APPROVER_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')).kid;

describe('signing keys across two replicas sharing one store (SPEC §17)', () => {
  let upstream: TestUpstream;
  let shared: MemoryStore;
  let clock: ManualClock;
  let a: TestGateway;
  let b: TestGateway;
  let task = 0;

  const createOn = async (gw: TestGateway) => {
    const reply = await postJson(`${gw.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: `keys-${++task}` });
    return reply;
  };
  const jwksKids = async (gw: TestGateway): Promise<string[]> =>
    ((await call(`${gw.control}/.well-known/jwks.json`)).json.keys as { kid: string }[]).map((k) => k.kid).sort();
  const retire = (gw: TestGateway, kid: string, body: unknown = {}, secret = ADMIN_SECRET) =>
    postJson(`${gw.control}/v1/keys/${kid}/retire`, body, bearer(secret));
  const dataCall = (gw: TestGateway, token: string) => call(`${gw.data}/tools/billing/invoices/1`, { headers: bearer(token) });

  beforeAll(async () => {
    upstream = await startUpstream();
    clock = new ManualClock(Date.now());
    shared = new MemoryStore();
    a = await startTestGateway({ upstreamUrl: upstream.url, clock, store: shared });
    b = await startTestGateway({ upstreamUrl: upstream.url, clock, store: shared });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await shared?.close();
    await upstream?.close();
  });

  it('accepts on B a token A signed (and the reverse); both JWKS list both keys, never a private member', async () => {
    const onA = await createOn(a);
    const onB = await createOn(b);
    expect([onA.status, onB.status]).toEqual([201, 201]);
    expect(kidOf(onA.json.token)).not.toBe(kidOf(onB.json.token));
    expect((await dataCall(b, onA.json.token)).status).toBe(200);
    expect((await dataCall(a, onB.json.token)).status).toBe(200);
    const both = [kidOf(onA.json.token), kidOf(onB.json.token)].sort();
    expect(await jwksKids(a)).toEqual(both);
    expect(await jwksKids(b)).toEqual(both);
    expect((await call(`${b.control}/.well-known/jwks.json`)).text).not.toMatch(/"d"/);
  });

  it('lets only an admin retire, with a strict empty body and a known kid', async () => {
    const kid = kidOf((await createOn(a)).json.token);
    const notAdmin = await retire(a, kid, {}, APPROVER_SECRET);
    expect([notAdmin.status, notAdmin.json.code]).toEqual([403, 'forbidden']);
    const extraField = await retire(a, kid, { now: true });
    expect([extraField.status, extraField.json.code]).toEqual([400, 'invalid_request']);
    const unknown = await retire(a, 'no-such-kid');
    expect([unknown.status, unknown.json.code]).toEqual([404, 'route_not_found']);
    const badKid = await call(`${a.control}/v1/keys/bad%20kid/retire`, { method: 'POST', headers: { ...bearer(ADMIN_SECRET), 'content-type': 'application/json' }, body: '{}' });
    expect(badKid.status).toBe(404);
    // Nothing was retired by any of that.
    expect(await jwksKids(b)).toContain(kid);
  });

  it("retires A's key through A's control API: token_invalid on A at once and on B within the TTL; A cannot mint", async () => {
    const session = (await createOn(a)).json;
    const kid = kidOf(session.token);
    expect((await dataCall(b, session.token)).status).toBe(200); // B has the kid cached now
    const retiredAt = clock.now();
    const first = await retire(a, kid);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ kid, retired_at: rfc3339(retiredAt) });
    clock.advance(10);
    expect((await retire(b, kid)).json).toEqual({ kid, retired_at: rfc3339(retiredAt) }); // once, on any replica

    const onA = await dataCall(a, session.token);
    expect([onA.status, onA.json.code]).toEqual([401, 'token_invalid']);
    expect(onA.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    clock.advance(KEY_STATUS_TTL_MS);
    const onB = await dataCall(b, session.token);
    expect([onB.status, onB.json.code]).toEqual([401, 'token_invalid']);
    // The control plane refuses it the same way.
    expect((await call(`${b.control}/v1/sessions/${session.session_id}`, { headers: bearer(session.token) })).json.code).toBe('token_invalid');
    // A's own signing key is retired: nothing is minted with it, and nothing changes.
    const refused = await createOn(a);
    expect([refused.status, refused.json.code]).toEqual([503, 'store_unavailable']);
    expect(refused.headers['retry-after']).toBe('1');
    clock.advance(1_000);
    expect(await jwksKids(b)).not.toContain(kid);

    const record = a.auditRecords().find((r) => r.api?.operation === 'key.retire' && r.status_code === 'ok');
    expect(record).toMatchObject({ actor: { user: { uid: 'sec-admin', type: 'person' } }, unmapped: { epochgate: { kid } } });
    expect(a.auditRecords().some((r) => r.api?.operation === 'key.retire' && r.status_code === 'forbidden')).toBe(true);
  });

  it('signs with a new key after keys generate and a reload, without a restart; B verifies it at once', async () => {
    const { kid } = await generateKeyInto(join(a.dir, 'keys.json'));
    expect(await a.gw.reloadKeys()).toBe(true);
    const session = await createOn(a);
    expect(session.status).toBe(201);
    expect(kidOf(session.json.token)).toBe(kid);
    expect((await dataCall(b, session.json.token)).status).toBe(200);
    expect(await jwksKids(a)).toContain(kid); // A dropped its JWKS copy when it loaded the key
    clock.advance(1_000); // B serves its JWKS from memory for up to a second
    expect(await jwksKids(b)).toContain(kid);
    const loaded = a.auditRecords().filter((r) => r.api?.operation === 'key.load');
    expect(loaded.at(-1)?.unmapped.epochgate).toMatchObject({ signing_kid: kid, keys: 2 });
  });

  it('keeps the last good key set when the key file is bad, and audits key.reload_failed', async () => {
    const before = kidOf((await createOn(b)).json.token);
    writeFileSync(join(b.dir, 'keys.json'), '{"keys": "not a list"}');
    expect(await b.gw.reloadKeys()).toBe(false);
    const failed = b.auditRecords().filter((r) => r.api?.operation === 'key.reload_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ status_code: 'keys_invalid', status_id: 2 });
    expect(JSON.stringify(failed[0])).toContain('is not a JWK set');
    const after = await createOn(b);
    expect(after.status).toBe(201);
    expect(kidOf(after.json.token)).toBe(before);
    expect((await dataCall(a, after.json.token)).status).toBe(200);
  });
});
