// SPEC §10 across kill -9: a side-effecting call in flight when the gateway dies has an unknown outcome
// after the restart; the matching call is refused until an admin resolves it; Idempotency-Key records
// survive a restart. Drives the built CLI (npm run build first).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { ADMIN_SECRET, AGENT_SECRET, defaultPolicy, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream, type UpstreamHandler } from '../helpers/upstream.js';
import { bearer, postJson } from '../helpers/client.js';

const CRED = { agent_id: 'billing-bot', client_secret: AGENT_SECRET };
const RULES = `  - id: payments
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    paths: ["/payments/**"]
`;

describe('e2e: ledger across kill -9', () => {
  let upstream: TestUpstream;
  let gateway: SpawnedGateway | undefined;
  let configFile: string;
  let auditFile: string;
  const held: (() => void)[] = [];

  const answer: UpstreamHandler = (req, res, body) => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url, body, n: Math.random() }));
  };

  beforeAll(async () => {
    upstream = await startUpstream(answer);
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-e2e-ledger-'));
    ({ configFile, auditFile } = writeGatewayFiles({ upstreamUrl: upstream.url, policy: defaultPolicy(RULES), dir, logLevel: 'info', toolTimeoutMs: 20_000 }));
    gateway = await spawnGateway(configFile);
  });
  afterAll(async () => {
    for (const release of held) release();
    await gateway?.stop('SIGKILL');
    await upstream.close();
  });

  const post = (g: SpawnedGateway, token: string, path: string, headers: Record<string, string> = {}) =>
    postJson(`${g.dataUrl}/tools/billing${path}`, { amount: 7 }, { ...bearer(token), ...headers });
  const heldCalls = () => upstream.seen.filter((s) => s.url === '/api/payments/held').length;

  it('turns the in-flight call unknown, refuses the match with 409, and after resolve retry forwards it once', async () => {
    const first = gateway!;
    const created = await postJson(`${first.controlUrl}/v1/sessions`, { ...CRED, task_id: 'crash-ledger' });
    expect(created.status).toBe(201);
    const { session_id: sessionId, token } = created.json;

    // The tool holds the side-effecting call open; the gateway is killed while it waits.
    upstream.handler = (req, res, body) => {
      if (req.url === '/api/payments/held') held.push(() => answer(req, res, body));
      else answer(req, res, body);
    };
    const inFlight = post(first, token, '/payments/held').catch((err: unknown) => err);
    await waitFor(() => heldCalls() === 1);
    // An Idempotency-Key record completed before the crash.
    const keyed = await post(first, token, '/payments/keyed', { 'idempotency-key': 'crash-key' });
    expect(keyed.status).toBe(201);
    expect(await first.stop('SIGKILL')).toBeNull();
    expect(await inFlight).toBeInstanceOf(Error);

    gateway = await spawnGateway(configFile);
    const second = gateway;
    const audit = readFileSync(auditFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    const unknown = audit.filter((r) => r.api.operation === 'ledger.unknown');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ actor: { user: { uid: 'epochgate', type: 'system' }, session: { uid: sessionId } } });
    expect(unknown[0].unmapped.epochgate).toMatchObject({ reason: 'gateway_restart', http_method: 'POST', tool_path: '/payments/held' });

    // The key still answers from its record after the restart, without calling the tool.
    const keyedAgain = await post(second, token, '/payments/keyed', { 'idempotency-key': 'crash-key' });
    expect(keyedAgain).toMatchObject({ status: 201, text: keyed.text });
    expect(keyedAgain.headers['idempotent-replayed']).toBe('true');

    const resumed = await postJson(`${second.controlUrl}/v1/sessions/${sessionId}/resume`, CRED);
    expect(resumed.status).toBe(200);
    expect(resumed.json.ledger.recent).toEqual([expect.objectContaining({ path: '/payments/held', state: 'unknown', status: null })]);
    const token2 = resumed.json.token;
    upstream.handler = answer;
    const blocked = await post(second, token2, '/payments/held');
    expect(blocked.status).toBe(409);
    expect(blocked.json).toMatchObject({ code: 'outcome_unknown', entry_id: unknown[0].unmapped.epochgate.entry_id });
    expect(heldCalls()).toBe(1);

    const resolved = await postJson(
      `${second.controlUrl}/v1/sessions/${sessionId}/ledger/${blocked.json.entry_id}/resolve`,
      { outcome: 'retry' },
      bearer(ADMIN_SECRET),
    );
    expect(resolved.status).toBe(200);
    const retried = await post(second, token2, '/payments/held');
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(heldCalls()).toBe(2);

    // Once: the retried call is now the recorded outcome; the next resumed worker gets it replayed.
    const resumed2 = await postJson(`${second.controlUrl}/v1/sessions/${sessionId}/resume`, CRED);
    const replayed = await post(second, resumed2.json.token, '/payments/held');
    expect(replayed).toMatchObject({ status: 201, text: retried.text });
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(heldCalls()).toBe(2);
  });
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
