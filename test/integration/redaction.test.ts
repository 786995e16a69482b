// SPEC §13 "Never in the stream": after a full scenario (sessions, resume, path-token form, client
// assertions, injected upstream credentials, approvals when present, a body secret) neither the audit file
// nor the operational log contains any token, secret, assertion, injected header value or body content.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { ManualClock } from '../../src/util/clock.js';
import { INJECTED_KEY, writeGatewayFiles } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { BODY_SECRET, runBroadScenario } from '../helpers/audit-scenario.js';
import { jwtAgent } from '../helpers/jwt-agent.js';

describe('redaction: no secret reaches the audit stream or the operational log (SPEC §13)', () => {
  let upstream: TestUpstream;
  let gw: RunningGateway;
  let secrets: string[];
  let audit: string;
  let log: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    upstream = await startUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-redaction-'));
    const jwt = await jwtAgent(dir);
    const files = writeGatewayFiles({ upstreamUrl: upstream.url, policy: jwt.policy, dir });
    // The most verbose operational log there is: whatever the gateway logs at any level is checked.
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    const clock = new ManualClock(Date.now());
    gw = await startGateway({ config: loadConfig(files.configFile), logger: pino({ level: 'trace' }, sink), clock, watchPolicies: false, sweepIntervalMs: 3_600_000 });
    secrets = await runBroadScenario({ gw, control: gw.controlUrl, data: gw.dataUrl, clock, policyDir: files.policyDir, jwt, upstreamCalls: () => upstream.seen.length });
    await gw.close(0);
    audit = readFileSync(files.auditFile, 'utf8');
    log = logLines.join('');
  });
  afterAll(async () => {
    await gw.close(0);
    await upstream.close();
  });

  it('ran a scenario that really carried the secrets over the wire', () => {
    // Each of these reached the gateway: the upstream saw the injected key and the body secret.
    expect(upstream.seen.some((r) => r.headers['x-api-key'] === INJECTED_KEY)).toBe(true);
    expect(secrets).toContain(INJECTED_KEY);
    expect(upstream.seen.some((r) => r.body.includes(BODY_SECRET))).toBe(true);
    expect(secrets.filter((s) => s.split('.').length === 3).length).toBeGreaterThanOrEqual(6);
    expect(audit.split('\n').length).toBeGreaterThan(30);
    // The log captured something, so an empty log does not pass by accident.
    expect(log).toContain('"msg"');
  });

  it('audits unrouted targets by their first segment only, a token-shaped one as /[redacted]', () => {
    const records = audit.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, any>);
    const unrouted = records.filter((r) => r.api.operation === 'tool.call' && r.status_code === 'route_not_found').map((r) => r.http_request.url.path);
    expect(unrouted).toEqual(['/tools', '/[redacted]', '/x']);
  });

  it('writes none of them to the audit file', () => {
    const found = secrets.filter((secret) => audit.includes(secret));
    expect(found.map((s) => s.slice(0, 12))).toEqual([]);
  });

  it('writes none of them to the operational log', () => {
    const found = secrets.filter((secret) => log.includes(secret));
    expect(found.map((s) => s.slice(0, 12))).toEqual([]);
  });

  it('writes no part of a token either (header, claims or signature segment)', () => {
    const segments = secrets.filter((s) => s.split('.').length === 3).flatMap((token) => token.split('.')).filter((seg) => seg.length >= 16);
    const inAudit = segments.filter((seg) => audit.includes(seg));
    const inLog = segments.filter((seg) => log.includes(seg));
    expect({ inAudit, inLog }).toEqual({ inAudit: [], inLog: [] });
  });
});
