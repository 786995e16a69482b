// The live inbox stream as a unit, with a response that never drains (a reader that stopped reading): the
// stream writes while what is unsent stays within MAX_UNSENT_BYTES, then ends and destroys the response and
// gives its place back, instead of buffering every later inbox change in the gateway's memory. Also the
// per-person register: MAX_STREAMS_PER_PERSON each, a freed place is reusable, closeAll ends every stream.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ApprovalSignal } from '../../src/approvals/approval-signal.js';
import type { ConsoleContext, ConsoleDeps } from '../../src/console/console-deps.js';
import { InboxStreams, MAX_STREAMS_PER_PERSON, MAX_UNSENT_BYTES, openInboxStream } from '../../src/console/inbox-stream.js';
import { ManualClock } from '../../src/util/clock.js';

/** A ServerResponse whose socket takes nothing: every write stays in writableLength. */
class StuckResponse extends EventEmitter {
  readonly written: string[] = [];
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  writeHead(): this {
    return this;
  }
  write(text: string): boolean {
    this.written.push(text);
    this.writableLength += Buffer.byteLength(text);
    return false;
  }
  end(): void {
    this.writableEnded = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

const person = { id: 'alice', roles: ['approver'], secretSha256: [] };

function setup() {
  const signal = new ApprovalSignal();
  const streams = new InboxStreams();
  const warnings: string[] = [];
  let round = 0;
  const deps = {
    signal,
    streams,
    pollMs: 3_600_000,
    clock: new ManualClock(1_800_000_000_000),
    logger: { warn: (_fields: unknown, message: string) => void warnings.push(message) },
    store: { consoleSessions: { find: async () => ({}) } },
    auth: { personOf: () => person },
    policy: { current: () => ({ rules: [{ id: 'r', approval: { approvers: ['approver'] } }] }) },
    // Every read finds a different list of 4 KiB, so every signal writes an `inbox` event.
    approvals: { list: async () => [{ approvalId: `apr_${++round}`, ruleId: 'r', agentId: 'x'.repeat(4096), sessionId: 's', createdAt: 0, expiresAt: 1_900_000_000_000, action: { tool: 't', method: 'POST', path: '/p', mcpTool: null } }] },
  } as unknown as ConsoleDeps;
  const res = new StuckResponse();
  const ctx = { res, requestId: 'req_1' } as unknown as ConsoleContext;
  openInboxStream(deps, ctx, { person, cookie: 'c', csrf: 'x' } as never);
  return { signal, streams, res, warnings };
}

/** Lets the stream's refresh (a few awaited promises) run to its end. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('a live inbox whose reader stopped reading', () => {
  it(`keeps writing up to ${MAX_UNSENT_BYTES} unsent bytes, then ends, destroys and unregisters the stream`, async () => {
    const { signal, streams, res, warnings } = setup();
    await settle();
    let rounds = 0;
    while (!res.destroyed && rounds < 1000) {
      signal.notify();
      await settle();
      rounds++;
    }
    const inboxEvents = res.written.filter((w) => w.startsWith('event: inbox')).length;
    // Every write before the cut-off found at most MAX_UNSENT_BYTES unsent; the one after it was refused.
    expect(res.writableLength - Buffer.byteLength(res.written.at(-1)!)).toBeLessThanOrEqual(MAX_UNSENT_BYTES);
    expect(res.writableLength).toBeGreaterThan(MAX_UNSENT_BYTES);
    expect([res.destroyed, res.writableEnded]).toEqual([true, true]);
    // One `inbox` event per refresh until the cut-off (about 64 of 4 KiB), none after it.
    expect(inboxEvents).toBe(rounds);
    expect(rounds).toBeGreaterThan(50);
    expect(warnings).toEqual(['console inbox reader stopped reading; stream ended']);
    expect(signal.size).toBe(0);
    // Its place is free again: the person can open every stream the limit allows.
    const places = Array.from({ length: MAX_STREAMS_PER_PERSON }, () => streams.add('alice', () => undefined));
    expect(places.every((p) => p !== null)).toBe(true);
  });
});

describe('InboxStreams', () => {
  it(`holds ${MAX_STREAMS_PER_PERSON} per person, refuses the next, reuses a freed place, and counts people apart`, () => {
    const streams = new InboxStreams();
    const mine = Array.from({ length: MAX_STREAMS_PER_PERSON }, () => streams.add('alice', () => undefined));
    expect(mine.filter((m) => m === null)).toEqual([]);
    expect(streams.add('alice', () => undefined)).toBeNull();
    expect(streams.add('bob', () => undefined)).not.toBeNull();
    mine[0]!();
    expect(streams.add('alice', () => undefined)).not.toBeNull();
    expect(streams.add('alice', () => undefined)).toBeNull();
  });

  it('closeAll ends every open stream of every person, once', () => {
    const streams = new InboxStreams();
    const ended: string[] = [];
    const aliceEnd = streams.add('alice', () => ended.push('alice'));
    streams.add('bob', () => ended.push('bob'));
    streams.add('alice', () => ended.push('alice-2'));
    aliceEnd!();
    streams.closeAll();
    expect(ended.sort()).toEqual(['alice-2', 'bob']);
  });
});
