// A tool upstream and a minimal gateway front (parse target → headers → forward) on real node:http servers
// on port 0, and a plain node:http client: the harness of the forwarding primitive's tests.
import { once } from 'node:events';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ToolConfig } from '../../src/config/types.js';
import { asGatewayError } from '../../src/errors/problem.js';
import { createDispatchers, type ToolDispatchers } from '../../src/upstream/dispatchers.js';
import { forward, type ForwardResult } from '../../src/upstream/forward.js';
import { buildUpstreamHeaders } from '../../src/upstream/headers.js';
import { buildUpstreamUrl, parseDataPlaneTarget } from '../../src/upstream/request-target.js';

export type Outcome = { result: ForwardResult } | { code: string };

/** Closed by the test file's afterEach, newest first. */
export const cleanups: Array<() => Promise<unknown> | void> = [];

export async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return (server.address() as AddressInfo).port;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startUpstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  return listen(http.createServer(handler));
}

export interface Front {
  port: number;
  /** Settles with the forward() outcome of the next request, in order. */
  next(): Promise<Outcome>;
}

export async function startFront(upstreamPort: number, over: Partial<ToolConfig> = {}, capture?: { maxBytes?: number }): Promise<Front> {
  const tool = toolConfig(upstreamPort, over);
  const dispatchers: ToolDispatchers = createDispatchers(new Map([[tool.name, tool]]));
  cleanups.push(() => dispatchers.destroy());
  const outcomes: Array<Promise<Outcome>> = [];
  let taken = 0;
  const server = http.createServer((req, res) => void outcomes.push(forwardOne(req, res, tool, dispatchers, capture)));
  const port = await listen(server);
  return {
    port,
    next: async () => {
      while (outcomes.length <= taken) await new Promise((r) => setImmediate(r));
      return outcomes[taken++] as Promise<Outcome>;
    },
  };
}

function toolConfig(upstreamPort: number, over: Partial<ToolConfig>): ToolConfig {
  return {
    name: 'billing',
    upstream: new URL(`http://127.0.0.1:${upstreamPort}/api`),
    protocol: 'http',
    headers: { authorization: 'Bearer tool-key' },
    timeoutMs: 2000,
    maxBodyBytes: 1 << 20,
    forwardCookies: false,
    maxConnections: 16,
    streamIdleTimeoutMs: 300_000,
    ...over,
  };
}

/** The front's whole pipeline for one request: parse the target, build the headers, forward, map errors. */
async function forwardOne(req: IncomingMessage, res: ServerResponse, tool: ToolConfig, dispatchers: ToolDispatchers, capture?: { maxBytes?: number }): Promise<Outcome> {
  const target = parseDataPlaneTarget(req.url ?? '');
  if (target.kind !== 'tool') throw new Error('test routes only tools');
  const body = await readBody(req);
  res.setHeader('x-request-id', 'gw-req-1');
  const identity = { requestId: 'gw-req-1', clientIp: req.socket.remoteAddress ?? '', proto: 'http', host: req.headers.host, sessionId: 'ses_1', epoch: 4, agentId: 'agent-a' } as const;
  try {
    const result = await forward(
      {
        dispatcher: dispatchers.get(tool.name),
        url: buildUpstreamUrl(tool.upstream, target.segments, target.query),
        method: req.method ?? 'GET',
        headers: buildUpstreamHeaders(req.rawHeaders, { tool, ...identity }),
        body: body.length > 0 ? body : null,
        timeoutMs: tool.timeoutMs,
        ...(capture ? { capture } : {}),
      },
      res,
    );
    return { result };
  } catch (err) {
    const e = asGatewayError(err);
    res.writeHead(e.status, { 'x-error-code': e.code });
    res.end();
    return { code: e.code };
  }
}

export type Reply = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

export function send(port: number, path: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      readBody(res).then((body) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }), reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
