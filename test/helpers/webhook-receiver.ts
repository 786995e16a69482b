// A webhook receiver on port 0 (SPEC §18) that checks X-Epochgate-Signature the way a user's receiver would
// (its own HMAC over "<t>.<body>"), records every POST, and answers as the test scripts it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startUpstream, type TestUpstream } from './upstream.js';

export interface ReceivedHook {
  readonly event: string | undefined;
  readonly deliveryId: string | undefined;
  readonly signature: string | undefined;
  /** The signature verified with the receiver's secret. */
  readonly verified: boolean;
  readonly contentType: string | undefined;
  readonly body: string;
  readonly json: any;
}

export type HookAnswer = (req: IncomingMessage, res: ServerResponse) => void;

export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedHook[];
  /** Answers to the next requests, in order; when empty, 200. */
  readonly answers: HookAnswer[];
  /** Resolves once `count` requests have arrived (rejects after timeoutMs): tests wait on arrivals. */
  until(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export const status = (code: number): HookAnswer => (_req, res) => {
  res.writeHead(code, { 'content-type': 'text/plain' });
  res.end(String(code));
};

export function verifySignature(secret: string, header: string | undefined, body: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}

export async function startReceiver(secret: string): Promise<WebhookReceiver> {
  const answers: HookAnswer[] = [];
  const received: ReceivedHook[] = [];
  const waiters = new Set<() => void>();
  const upstream: TestUpstream = await startUpstream((req, res, body) => {
    const header = req.headers['x-epochgate-signature'] as string | undefined;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    received.push({
      event: req.headers['x-epochgate-event'] as string | undefined,
      deliveryId: req.headers['x-epochgate-delivery'] as string | undefined,
      signature: header,
      verified: verifySignature(secret, header, body),
      contentType: req.headers['content-type'],
      body,
      json,
    });
    (answers.shift() ?? status(200))(req, res);
    for (const wake of waiters) wake();
  });
  const until = (count: number, timeoutMs: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (received.length < count) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`receiver saw ${received.length} of ${count} deliveries within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { url: `${upstream.url}/hooks/epochgate`, received, answers, until, close: () => upstream.close() };
}
