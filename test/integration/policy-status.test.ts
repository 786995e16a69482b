// SPEC §7 GET /v1/policy (admin): {revision, loaded_at, files, last_error}, through a good reload,
// a refused one (last good stays, error shown) and a recovery (error cleared).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePolicyDir } from '../../src/policy/load.js';
import { ManualClock } from '../../src/util/clock.js';
import { ADMIN_SECRET, APPROVER_SECRET, defaultPolicy, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { bearer, call } from '../helpers/client.js';

describe('GET /v1/policy (SPEC §7)', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  const clock = new ManualClock(Date.UTC(2026, 10, 24, 12, 0, 0));
  const status = () => call(`${t.control}/v1/policy`, { headers: bearer(ADMIN_SECRET) });

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url, clock });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('shows the revision in force, when it was loaded, its files and no error', async () => {
    const res = await status();
    expect(res.status).toBe(200);
    const expected = await validatePolicyDir(t.policyDir, { now: 0, toolNames: new Set(['billing', 'crm']) });
    expect(res.json).toEqual({ revision: expected.snapshot!.revision, loaded_at: '2026-11-24T12:00:00.000Z', files: ['main.yaml'], last_error: null });
  });

  it('keeps the last good revision after a refused reload and shows the error with its time, then clears it', async () => {
    const before = (await status()).json;
    clock.advance(60_000);
    t.writePolicy(`${defaultPolicy()}colour: red\n`);
    expect(await t.gw.reloadPolicy()).toBe(false);
    const failed = (await status()).json;
    expect(failed).toMatchObject({ revision: before.revision, loaded_at: before.loaded_at, files: ['main.yaml'] });
    expect(failed.last_error.message).toMatch(/main\.yaml:\d+: colour: unknown key/);
    expect(failed.last_error.at).toBe('2026-11-24T12:01:00.000Z');

    clock.advance(60_000);
    t.writePolicy(defaultPolicy(), 'main.yaml');
    t.writePolicy('apiVersion: epochgate/v1\nkind: Policy\n', 'extra.yaml');
    expect(await t.gw.reloadPolicy()).toBe(true);
    const fixed = (await status()).json;
    expect(fixed.revision).not.toBe(before.revision);
    expect(fixed).toMatchObject({ loaded_at: '2026-11-24T12:02:00.000Z', files: ['extra.yaml', 'main.yaml'], last_error: null });
  });

  it('is for admins only: another person gets 403 forbidden, no credential 401', async () => {
    expect((await call(`${t.control}/v1/policy`, { headers: bearer(APPROVER_SECRET) })).json.code).toBe('forbidden');
    const anonymous = await call(`${t.control}/v1/policy`);
    expect(anonymous.status).toBe(401);
  });
});
