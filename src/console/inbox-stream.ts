// The live inbox: a server-sent event stream of the pending approvals this person may decide. It re-reads
// the store when this process signals a change (a call asked, a person decided, an approval was used or
// expired) and also once a second (pollMs), so what happened through another replica shows within about
// a second too. An `inbox` event carries the whole list as JSON (plain text: the page's script puts it in
// the page with textContent, never as markup), sent only when it changed. The stream checks that its
// person is still signed in without renewing the session (an open tab is not activity) and ends with an
// `end` event when they are not. Every new stream (also a reconnect) starts with the whole list.
// A tab is a cheap thing to open and a stream is not free (a store read a second), so one person holds at
// most MAX_STREAMS_PER_PERSON at once; a reader that stops reading is cut off instead of buffered for.
import type { ServerResponse } from 'node:http';
import { GatewayError } from '../errors/gateway-error.js';
import { sha256Hex } from '../util/hash.js';
import type { SignedIn } from './console-auth.js';
import type { ConsoleContext, ConsoleDeps, ConsoleReply } from './console-deps.js';
import { inboxItems } from './approval-data.js';
import { SECURITY_HEADERS } from './security-headers.js';

const DEFAULT_POLL_MS = 1000;
/** A comment line now and then keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
/** Enough for every tab a person works in; the next one is refused (429) and its page retries later. */
export const MAX_STREAMS_PER_PERSON = 16;
/**
 * Unsent bytes past which a stream's reader counts as gone: Node buffers whatever the socket cannot take,
 * so a client that never reads would otherwise grow the gateway's memory with every inbox change. Ending the
 * stream is harmless: a live page reconnects and starts from the whole list again.
 */
export const MAX_UNSENT_BYTES = 256 * 1024;

/** Open streams per person, ended all at once when the gateway stops (so they do not hold the drain). */
export class InboxStreams {
  private readonly open = new Map<string, Set<() => void>>();

  /** Registers a stream of `personId`, or answers null when that person already holds the most allowed. */
  add(personId: string, end: () => void): (() => void) | null {
    const mine = this.open.get(personId) ?? new Set<() => void>();
    if (mine.size >= MAX_STREAMS_PER_PERSON) return null;
    mine.add(end);
    this.open.set(personId, mine);
    return () => {
      mine.delete(end);
      if (mine.size === 0 && this.open.get(personId) === mine) this.open.delete(personId);
    };
  }

  closeAll(): void {
    for (const mine of [...this.open.values()]) for (const end of [...mine]) end();
  }
}

export function openInboxStream(deps: ConsoleDeps, ctx: ConsoleContext, signedIn: SignedIn): ConsoleReply {
  const stream = new InboxStream(deps, ctx.res, sha256Hex(signedIn.cookie));
  const unregister = deps.streams.add(signedIn.person.id, () => stream.end());
  if (unregister === null) {
    throw new GatewayError('too_many_requests', { detail: `At most ${MAX_STREAMS_PER_PERSON} live inboxes per person are open at once; close a console tab` });
  }
  ctx.res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': ctx.requestId });
  // retry: a dropped stream is re-opened by the browser after 1 s (its default is a few seconds).
  ctx.res.write(': inbox\nretry: 1000\n\n');
  stream.start(unregister);
  return { kind: 'streamed' };
}

class InboxStream {
  private last = '';
  private running = false;
  private again = false;
  private readonly stops: (() => void)[] = [];

  constructor(
    private readonly deps: ConsoleDeps,
    private readonly res: ServerResponse,
    private readonly idHash: string,
  ) {}

  start(unregister: () => void): void {
    const poll = setInterval(() => this.schedule(), this.deps.pollMs ?? DEFAULT_POLL_MS);
    const keepalive = setInterval(() => this.send(': keep-alive\n\n'), KEEPALIVE_MS);
    this.stops.push(this.deps.signal.subscribe(() => this.schedule()), () => clearInterval(poll), () => clearInterval(keepalive));
    this.stops.push(unregister);
    this.res.on('close', () => this.end());
    this.schedule();
  }

  /** One refresh at a time; a signal during a refresh runs one more after it. */
  private schedule(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.refresh()
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'console inbox refresh failed'))
      .finally(() => {
        this.running = false;
        if (this.again && !this.res.writableEnded) {
          this.again = false;
          this.schedule();
        }
      });
  }

  private async refresh(): Promise<void> {
    const record = await this.deps.store.consoleSessions.find(this.idHash, this.deps.clock.now());
    const person = record === null ? undefined : this.deps.auth.personOf(record);
    if (person === undefined) {
      this.send('event: end\ndata: signed-out\n\n');
      this.end();
      return;
    }
    const data = JSON.stringify(await inboxItems(this.deps, person));
    if (data !== this.last && !this.res.writableEnded) {
      this.last = data;
      this.send(`event: inbox\ndata: ${data}\n\n`);
    }
  }

  private send(text: string): void {
    if (this.res.writableEnded) return;
    if (this.res.writableLength > MAX_UNSENT_BYTES) {
      this.deps.logger.warn({ unsentBytes: this.res.writableLength }, 'console inbox reader stopped reading; stream ended');
      this.end();
      this.res.destroy(); // frees what is buffered: ending politely would wait for a reader that is not there
      return;
    }
    this.res.write(text);
  }

  end(): void {
    for (const stop of this.stops.splice(0)) stop();
    if (!this.res.writableEnded) this.res.end();
  }
}
