// The forwarding primitive against real node:http servers on port 0: a tool upstream and a minimal
// gateway front (parse target → headers → forward), driven by a plain node:http client.
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { ForwardResult } from '../../src/upstream/forward.js';
import { cleanups, listen, readBody, send, startFront, startUpstream } from '../helpers/forward-front.js';

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('forward', () => {
  it('sends the upstream the method, re-encoded path, query, hygienic headers and body', async () => {
    let seen: { method?: string; url?: string; headers?: http.IncomingHttpHeaders; body?: Buffer } = {};
    const up = await startUpstream(async (req, res) => {
      seen = { method: req.method, url: req.url, headers: req.headers, body: await readBody(req) };
      res.writeHead(201, { 'content-type': 'application/json', connection: 'x-hop', 'x-hop': '1', 'x-request-id': 'tool-id', 'x-tool': 'yes' });
      res.end('{"ok":true}');
    });
    const front = await startFront(up);
    const body = Buffer.from('{"amount":5}');
    const reply = await send(front.port, '/tools/billing/invoices/%252e%252e/a;b=1?x=1&y=%2F', {
      method: 'POST',
      headers: {
        authorization: 'Bearer SESSION.TOKEN',
        'content-type': 'application/json',
        cookie: 'sid=1',
        'x-forwarded-for': '6.6.6.6',
        'x-epochgate-epoch': '99',
        'x_user': 'root',
        connection: 'x-drop',
        'x-drop': 'gone',
      },
      body,
    });
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/api/invoices/%252e%252e/a;b=1?x=1&y=%2F');
    expect(seen.body?.equals(body)).toBe(true);
    expect(seen.headers?.['content-length']).toBe(String(body.length));
    expect(seen.headers?.authorization).toBe('Bearer tool-key');
    expect(JSON.stringify(seen.headers)).not.toContain('SESSION.TOKEN');
    expect(seen.headers?.cookie).toBeUndefined();
    expect(seen.headers?.['x_user']).toBeUndefined();
    expect(seen.headers?.['x-drop']).toBeUndefined();
    expect(seen.headers?.host).toBe(`127.0.0.1:${up}`);
    expect(seen.headers?.['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers?.['x-forwarded-host']).toBe(`127.0.0.1:${front.port}`);
    expect(seen.headers?.['x-request-id']).toBe('gw-req-1');
    expect(seen.headers?.['x-epochgate-epoch']).toBe('4');
    expect(seen.headers?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    expect(reply.status).toBe(201);
    expect(reply.body.toString()).toBe('{"ok":true}');
    expect(reply.headers['x-tool']).toBe('yes');
    expect(reply.headers['x-hop']).toBeUndefined();
    expect(reply.headers['x-request-id']).toBe('gw-req-1');
    const outcome = await front.next();
    expect(outcome).toMatchObject({ result: { status: 201, outcome: 'ok', bytes: 11 } });
  });

  it('streams text/event-stream chunk by chunk: the first event arrives before the second is sent', async () => {
    let releaseSecond!: () => void;
    const secondMayGo = new Promise<void>((r) => (releaseSecond = r));
    let secondSent = false;
    const up = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: first\n\n');
      void secondMayGo.then(() => {
        secondSent = true;
        res.end('data: second\n\n');
      });
    });
    const front = await startFront(up);
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: front.port, path: '/tools/billing/events', agent: false }, (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            received.push(chunk);
            if (received.length === 1) {
              expect(secondSent).toBe(false);
              releaseSecond();
            }
          });
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    expect(received[0]).toBe('data: first\n\n');
    expect(received.join('')).toBe('data: first\n\ndata: second\n\n');
    expect(await front.next()).toMatchObject({ result: { outcome: 'ok' } });
  });

  it('answers upstream_timeout (504) when the upstream sends no headers within timeoutMs', async () => {
    const up = await startUpstream(() => {
      /* never answers */
    });
    const front = await startFront(up, { timeoutMs: 200 });
    const reply = await send(front.port, '/tools/billing/slow');
    expect(reply.status).toBe(504);
    expect(await front.next()).toEqual({ code: 'upstream_timeout' });
  });

  it('answers upstream_unreachable (502) when the upstream port is closed', async () => {
    const probe = http.createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r));
    const front = await startFront(port);
    const reply = await send(front.port, '/tools/billing/x');
    expect(reply.status).toBe(502);
    expect(await front.next()).toEqual({ code: 'upstream_unreachable' });
  });

  it('answers upstream_unreachable (502) when the upstream resets the connection before answering', async () => {
    const up = await startUpstream((req) => req.socket.destroy());
    const front = await startFront(up);
    const reply = await send(front.port, '/tools/billing/x');
    expect(reply.status).toBe(502);
    expect(await front.next()).toEqual({ code: 'upstream_unreachable' });
  });

  it('aborts the client connection when the upstream resets mid-response', async () => {
    const up = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write(Buffer.alloc(10, 'a'), () => setImmediate(() => req.socket.destroy()));
    });
    const front = await startFront(up);
    const clientError = await new Promise<unknown>((resolve) => {
      http.get({ host: '127.0.0.1', port: front.port, path: '/tools/billing/x', agent: false }, (res) => {
        expect(res.statusCode).toBe(200);
        res.on('error', resolve);
        res.on('end', () => resolve(undefined));
        res.resume();
      });
    });
    expect(clientError).toBeInstanceOf(Error);
    expect((clientError as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(await front.next()).toMatchObject({ result: { status: 200, outcome: 'aborted_after_response', bytes: 10 } });
  });

  it('relays a 256 KiB body intact and captures it for the ledger', async () => {
    const payload = randomBytes(256 * 1024);
    const up = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(payload.length) });
      // Several writes, so the relay sees many chunks.
      for (let i = 0; i < payload.length; i += 10_000) res.write(payload.subarray(i, i + 10_000));
      res.end();
    });
    const front = await startFront(up, {}, { maxBytes: 2 * 1024 * 1024 });
    const reply = await send(front.port, '/tools/billing/blob');
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    expect(reply.body.length).toBe(payload.length);
    expect(sha(reply.body)).toBe(sha(payload));
    const outcome = await front.next();
    expect(outcome).toMatchObject({ result: { outcome: 'ok', bytes: payload.length, captured: { truncated: false } } });
    const captured = (outcome as { result: ForwardResult }).result.captured;
    expect(captured && sha(captured.body)).toBe(sha(payload));
  });

  it('caps the captured body and marks it truncated, while relaying everything', async () => {
    const payload = randomBytes(100_000);
    const up = await startUpstream((_req, res) => res.end(payload));
    const front = await startFront(up, {}, { maxBytes: 1000 });
    const reply = await send(front.port, '/tools/billing/blob');
    expect(reply.body.equals(payload)).toBe(true);
    const { result } = (await front.next()) as { result: ForwardResult };
    expect(result.captured?.truncated).toBe(true);
    expect(result.captured?.body.equals(payload.subarray(0, 1000))).toBe(true);
  });

  it('stops reading the upstream when the agent disconnects mid-stream (client_closed)', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    const up = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      res.on('close', upstreamClosed);
    });
    const front = await startFront(up);
    const req = http.get({ host: '127.0.0.1', port: front.port, path: '/tools/billing/events', agent: false }, (res) => {
      res.once('data', () => req.destroy());
    });
    req.on('error', () => undefined);
    expect(await front.next()).toMatchObject({ result: { outcome: 'client_closed' } });
    await closed;
  });
});
