// Fixtures for the live-call tests (SPEC §8 "Open streams are fenced too", in-flight limit): a gateway with
// limits and a re-check interval of the test's choosing, an upstream that serves SSE streams and calls that
// wait until released, and an SSE client that timestamps every event it receives.
import { appendFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'undici';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from './gateway.js';
import { startUpstream, type TestUpstream } from './upstream.js';

export interface LiveGatewayOptions extends TestGatewayOptions {
  maxInflight?: number;
}

/** Writes the `limits` block the default test config lacks. */
export function appendLimits(configFile: string, maxInflight: number | undefined): void {
  if (maxInflight !== undefined) appendFileSync(configFile, `limits:\n  max_inflight_per_session: ${maxInflight}\n`);
}

/** The shared test gateway, with the live tests' in-flight limit in its config. */
export function startLiveGateway(options: LiveGatewayOptions): Promise<TestGateway> {
  const limits = options.maxInflight === undefined ? '' : `limits:\n  max_inflight_per_session: ${options.maxInflight}\n`;
  return startTestGateway({ ...options, extraConfig: `${options.extraConfig ?? ''}${limits}` });
}

export interface StreamingUpstream extends TestUpstream {
  /** Streams the upstream opened and how many of them were closed by the gateway side; slow calls the
   *  gateway gave up on before they were answered. */
  readonly streams: { opened: number; closed: number; slowAborted: number };
  /** Ends every call waiting on /api/slow with 200. */
  releaseSlow(): void;
}

/**
 * GET /api/stream, /api/idle-stream and GET /mcp: text/event-stream (/api/stream and /mcp send `data: n`
 * every 50 ms; /api/idle-stream and /mcp?idle=1 only a comment); /api/slow waits until releaseSlow(); /api/echo/reset resets the
 * connection; anything else is echoed as JSON.
 */
export async function startStreamingUpstream(): Promise<StreamingUpstream> {
  const streams = { opened: 0, closed: 0, slowAborted: 0 };
  const slow: ServerResponse[] = [];
  const upstream = await startUpstream((req: IncomingMessage, res: ServerResponse, body: string) => {
    const path = req.url ?? '';
    if (path.startsWith('/api/stream') || path.startsWith('/api/idle-stream') || (path.startsWith('/mcp') && req.method === 'GET')) {
      streams.opened += 1;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': open\n\n');
      let n = 0;
      const talks = path.startsWith('/api/stream') || (path.startsWith('/mcp') && !path.includes('idle'));
      const timer = talks ? setInterval(() => res.write(`data: ${++n}\n\n`), 50) : undefined;
      res.on('close', () => {
        if (timer) clearInterval(timer);
        streams.closed += 1;
      });
      return;
    }
    if (path.startsWith('/api/echo/reset')) {
      req.socket.destroy();
      return;
    }
    if (path.startsWith('/api/slow')) {
      slow.push(res);
      res.on('close', () => {
        if (!res.writableFinished) streams.slowAborted += 1;
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, body }));
  });
  return Object.assign(upstream, {
    streams,
    releaseSlow: () => {
      for (const res of slow.splice(0)) res.end('{"slow":"done"}');
    },
  });
}

export interface OpenStream {
  readonly status: number;
  /** Receive time (Date.now()) of every `data:` event. */
  readonly events: number[];
  /** Resolves with Date.now() when the stream ended (end, reset or error). */
  readonly ended: Promise<number>;
  isEnded(): boolean;
  close(): void;
}

/** Opens an SSE stream and resolves once its headers arrived. */
export async function openStream(url: string, headers: Record<string, string>): Promise<OpenStream> {
  const controller = new AbortController();
  const res = await request(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: number[] = [];
  let done = false;
  const ended = new Promise<number>((resolve) => {
    const finish = (): void => {
      done = true;
      resolve(Date.now());
    };
    res.body.on('data', (chunk: Buffer) => {
      const n = chunk.toString('utf8').split('data:').length - 1;
      for (let i = 0; i < n; i++) events.push(Date.now());
    });
    res.body.once('end', finish);
    res.body.once('error', finish);
    res.body.once('close', finish);
  });
  return { status: res.statusCode, events, ended, isEnded: () => done, close: () => controller.abort() };
}

/** Polls `probe` every 10 ms until it returns true, or fails after `timeoutMs`. */
export async function until(probe: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with the stream's end time, or rejects if it is still open after `ms`. */
export function endedWithin(stream: OpenStream, ms: number): Promise<number> {
  return Promise.race([
    stream.ended,
    new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`stream still open after ${ms} ms`)), ms).unref()),
  ]);
}
