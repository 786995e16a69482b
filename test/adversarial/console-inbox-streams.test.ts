// A signed-in person opening live inboxes without end, and a reader that never reads: each person holds at
// most MAX_STREAMS_PER_PERSON streams (the next gets 429 with Retry-After and its page retries later), a
// closed stream frees its place, other people are not affected, and a stream whose reader stopped reading is
// cut off instead of buffered for (test/unit/inbox-stream.test.ts drives that with a socket that never drains).
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STREAMS_PER_PERSON } from '../../src/console/inbox-stream.js';
import { CATALOGUE } from '../../src/errors/catalogue.js';
import { ADMIN_SECRET, APPROVER_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { signIn, type ConsoleClient } from '../helpers/console.js';
import { CONSOLE_CONFIG, consolePolicy } from '../helpers/console-fixtures.js';
import { waitUntil } from '../helpers/raw-http.js';

let t: TestGateway;
let alice: ConsoleClient;
let admin: ConsoleClient;

beforeAll(async () => {
  t = await startTestGateway({ upstreamUrl: 'http://127.0.0.1:9', policy: consolePolicy(), extraConfig: CONSOLE_CONFIG });
  alice = await signIn(t.control, 'alice', APPROVER_SECRET);
  admin = await signIn(t.control, 'sec-admin', ADMIN_SECRET);
});
afterAll(async () => {
  await t?.close();
});

interface OpenedStream {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly firstBytes: string;
  close(): void;
}

/** Opens GET /console/events and resolves with the status and the first chunk of the body. */
function openStream(cookie: string): Promise<OpenedStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${t.control}/console/events`, { headers: { cookie }, agent: false }, (res) => {
      res.once('data', (chunk: Buffer) => {
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, firstBytes: chunk.toString(), close: () => req.destroy() });
      });
    });
    req.on('error', reject);
  });
}

describe('live inbox streams per person', () => {
  it(`holds ${MAX_STREAMS_PER_PERSON} streams for one person, refuses the next with 429, frees a place on close`, async () => {
    const open: OpenedStream[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_PERSON; i++) open.push(await openStream(alice.cookie));
    expect(open.map((s) => s.status)).toEqual(Array(MAX_STREAMS_PER_PERSON).fill(200));
    expect(open[0]!.firstBytes.startsWith(': inbox\nretry: 1000\n\n')).toBe(true);

    const refused = await openStream(alice.cookie);
    refused.close();
    expect([refused.status, refused.retryAfter, refused.firstBytes.includes(`<h1>${CATALOGUE.too_many_requests.title}</h1>`)]).toEqual([429, '1', true]);

    // Another person is not held back by alice's streams.
    const other = await openStream(admin.cookie);
    other.close();
    expect(other.status).toBe(200);

    // Closing one of alice's streams gives its place back (once the gateway has seen the close).
    open.pop()!.close();
    let again: OpenedStream | undefined;
    await waitUntil(async () => {
      again?.close();
      again = await openStream(alice.cookie);
      return again.status === 200;
    }, 5_000);
    expect(again!.status).toBe(200);
    again!.close();
    for (const s of open) s.close();
  });

  it('the gateway keeps answering after the refusals', async () => {
    const page = await alice.get('/console/');
    expect(page.status).toBe(200);
  });
});
