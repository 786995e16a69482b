// SPEC §17 "Signing keys", end to end with the built CLI on the SQLite store: `keys generate` into the
// running gateway's key file, then `kill -HUP`: new tokens carry the new kid, tokens of the old key still
// verify, the JWKS lists both; after the old key has left the key file, `audit verify --config` still
// checks the anchors it signed with the copy published in the store.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN_JS, spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { bearer, call, postJson } from '../helpers/client.js';
import { AGENT_SECRET, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const run = promisify(execFile);
const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')).kid;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN_JS, ...args]);
    return { code: 0, out: stdout, err: stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

/** Resolves with the first operational log line whose msg is `msg` (waits on the event, never sleeps). */
function logLine(gateway: SpawnedGateway, msg: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: gateway.child.stderr! });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg !== msg) return;
        lines.close();
        resolve(entry);
      } catch {
        // not JSON: not ours
      }
    });
  });
}

describe('e2e: key rotation without a restart (keys generate, SIGHUP)', () => {
  let upstream: TestUpstream;
  let gateway: SpawnedGateway | undefined;
  let configFile: string;
  let auditFile: string;
  let keysFile: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-e2e-keys-'));
    ({ configFile, auditFile } = writeGatewayFiles({ upstreamUrl: upstream.url, logLevel: 'info', dir }));
    keysFile = join(dir, 'keys.json');
  });
  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await upstream.close();
  });

  it('signs with the new key after SIGHUP; old tokens still verify; the JWKS lists both; audit verify --config passes', async () => {
    // A first run leaves an anchor signed with the first key (written at stop).
    gateway = await spawnGateway(configFile);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    gateway = await spawnGateway(configFile);
    const control = gateway.controlUrl;
    const first = await postJson(`${control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: 'rotate' });
    expect(first.status).toBe(201);
    const oldKid = kidOf(first.json.token);

    const generated = await cli('keys', 'generate', '--config', configFile);
    expect(generated.code).toBe(0);
    const newKid = generated.out.trim();
    expect(newKid).not.toBe(oldKid);
    const reloaded = logLine(gateway, 'signing keys reloaded');
    gateway.child.kill('SIGHUP');
    expect(await reloaded).toMatchObject({ signing_kid: newKid, previous_signing_kid: oldKid, keys: 2 });

    const refreshed = await postJson(`${control}/v1/sessions/${first.json.session_id}/token`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET });
    expect(refreshed.status).toBe(200);
    expect(kidOf(refreshed.json.token)).toBe(newKid);
    for (const token of [first.json.token, refreshed.json.token]) {
      expect((await call(`${gateway.dataUrl}/tools/billing/invoices/1`, { headers: bearer(token) })).status).toBe(200);
    }
    const jwks = (await call(`${control}/.well-known/jwks.json`)).json as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
    expect(await gateway.stop('SIGTERM')).toBe(0);
    gateway = undefined;

    // The operator drops the old key from the file once its tokens expired: its published copy still
    // verifies the anchor it signed.
    const file = JSON.parse(readFileSync(keysFile, 'utf8')) as { keys: { kid: string }[] };
    writeFileSync(keysFile, JSON.stringify({ keys: file.keys.filter((k) => k.kid !== oldKid) }), { mode: 0o600 });
    const audit = readFileSync(auditFile, 'utf8');
    const anchorKids = [...audit.matchAll(/"jws":"([^"]+)"/g)].map((m) => kidOf(m[1]!));
    expect(anchorKids).toEqual([oldKid, newKid]);
    const verified = await cli('audit', 'verify', auditFile, '--config', configFile);
    expect(verified.err).toContain('the keys published in');
    expect(verified).toMatchObject({ code: 0 });
    expect(verified.out).toMatch(/ok: \d+ records in 2 chains, 2 anchors/);
  }, 60_000);
});
