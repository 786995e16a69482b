// SPEC §8 and §14 on the built CLI: SIGTERM with idle response streams open (a plain SSE stream and an MCP
// tool's standalone GET stream) ends them at once and exits 0 well within 3 s, although shutdown_grace_ms
// (10 s by default) would let ordinary in-flight requests run much longer.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGateway, type SpawnedGateway } from '../../src/demo/spawn-gateway.js';
import { defaultPolicy, writeGatewayFiles } from '../helpers/gateway.js';
import { openSession } from '../helpers/approvals.js';
import { bearer } from '../helpers/client.js';
import { endedWithin, openStream, startStreamingUpstream, type StreamingUpstream } from '../helpers/live.js';

const IDLE_STREAM_RULE = `  - id: idle-stream
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [GET]
    paths: ["/idle-stream"]
`;

describe('e2e: SIGTERM with idle streams open (SPEC §8, §14)', () => {
  let upstream: StreamingUpstream;
  let gateway: SpawnedGateway;

  beforeAll(async () => {
    upstream = await startStreamingUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-e2e-sigterm-'));
    const { configFile } = writeGatewayFiles({ upstreamUrl: upstream.url, dir, logLevel: 'info', policy: defaultPolicy(IDLE_STREAM_RULE) });
    gateway = await spawnGateway(configFile);
  });
  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await upstream.close();
  });

  it('ends the streams at once and exits 0 in well under 3 s', async () => {
    const s = await openSession(gateway.controlUrl);
    const streams = [
      await openStream(`${gateway.dataUrl}/tools/billing/idle-stream`, bearer(s.token)),
      await openStream(`${gateway.dataUrl}/tools/crm?idle=1`, bearer(s.token)),
    ];
    expect(streams.map((x) => x.status)).toEqual([200, 200]);
    const started = Date.now();
    const code = await gateway.stop('SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
    for (const stream of streams) await endedWithin(stream, 500);
  });
});
