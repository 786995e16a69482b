// docs/agents.md shows examples/plain-http-agent/session.mjs as the recovery loop an agent needs: this
// runs it against a real gateway. A suspended session is resumed; a worker whose session another worker
// resumed gets epoch_conflict and stops (Superseded) instead of fencing the other worker in turn.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript example without type declarations
import { Superseded, callTool, checkpoint, closeSession, openSession } from '../../examples/plain-http-agent/session.mjs';
import { AGENT_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, postJson } from '../helpers/client.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

describe('examples/plain-http-agent: the recovery loop of docs/agents.md', () => {
  let upstream: TestUpstream;
  let t: TestGateway;
  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestGateway({ upstreamUrl: upstream.url });
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  it('is the code docs/agents.md shows', () => {
    const code = readFileSync(new URL('../../examples/plain-http-agent/session.mjs', import.meta.url), 'utf8');
    expect(readFileSync(new URL('../../docs/agents.md', import.meta.url), 'utf8')).toContain(code.trim());
  });

  it('resumes a suspended session, and a superseded worker stops with epoch_conflict', async () => {
    const options = { control: t.control, agentId: 'billing-bot', secret: AGENT_SECRET, taskId: 'plain-1' };
    const a = await openSession(options);
    expect((await callTool(a, 'billing', '/invoices/1')).status).toBe(200);
    await checkpoint(a, 'read invoice 1', { done: 1 });
    // The lease ran out (here: suspended on purpose); the next call resumes with the epoch held.
    expect((await postJson(`${t.control}/v1/sessions/${a.session_id}/suspend`, {}, bearer(a.token))).status).toBe(200);
    expect((await callTool(a, 'billing', '/invoices/2')).status).toBe(200);
    expect(a.epoch).toBe(2);
    // Worker B takes the task over (session_exists → resume): A's next call finds it was superseded.
    const b = await openSession(options);
    expect(b.session_id).toBe(a.session_id);
    expect(b.epoch).toBe(3);
    expect(b.checkpoint).toMatchObject({ label: 'read invoice 1', state: { done: 1 } });
    await expect(callTool(a, 'billing', '/invoices/3')).rejects.toBeInstanceOf(Superseded);
    // B is not fenced by A: A did not resume again.
    expect((await callTool(b, 'billing', '/invoices/3')).status).toBe(200);
    expect(b.epoch).toBe(3);
    await closeSession(b);
  });
});
