// The live inbox: a server-sent event stream of the pending approvals this person may decide. It re-reads
// the store when this process signals a change (a call asked, a person decided, an approval was used or
// expired) and also once a second (pollMs), so what happened through another replica shows within about
// a second too. An `inbox` event carries the whole list as JSON (plain text: the page's script puts it in
// the page with textContent, never as markup), sent only when it changed. The stream checks that its
// person is still signed in without renewing the session (an open tab is not activity) and ends with an
// `end` event when they are not. Every new stream (also a reconnect) starts with the whole list.
import type { ServerResponse } from 'node:http';
import { sha256Hex } from '../util/hash.js';
import type { SignedIn } from './console-auth.js';
import type { ConsoleContext, ConsoleDeps, ConsoleReply } from './console-deps.js';
import { inboxItems } from './approval-data.js';
import { SECURITY_HEADERS } from './security-headers.js';

const DEFAULT_POLL_MS = 1000;
/** A comment line now and then keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

/** Open streams, ended all at once when the gateway stops (so they do not hold the drain). */
export class InboxStreams {
  private readonly open = new Set<() => void>();

  add(end: () => void): () => void {
    this.open.add(end);
    return () => this.open.delete(end);
  }

  closeAll(): void {
    for (const end of [...this.open]) end();
  }
}

export function openInboxStream(deps: ConsoleDeps, ctx: ConsoleContext, signedIn: SignedIn): ConsoleReply {
  ctx.res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': ctx.requestId });
  // retry: a dropped stream is re-opened by the browser after 1 s (its default is a few seconds).
  ctx.res.write(': inbox\nretry: 1000\n\n');
  new InboxStream(deps, ctx.res, sha256Hex(signedIn.cookie)).start();
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

  start(): void {
    const poll = setInterval(() => this.schedule(), this.deps.pollMs ?? DEFAULT_POLL_MS);
    const keepalive = setInterval(() => this.res.write(': keep-alive\n\n'), KEEPALIVE_MS);
    this.stops.push(this.deps.signal.subscribe(() => this.schedule()), () => clearInterval(poll), () => clearInterval(keepalive));
    this.stops.push(this.deps.streams.add(() => this.end()));
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
      this.res.write('event: end\ndata: signed-out\n\n');
      this.end();
      return;
    }
    const data = JSON.stringify(await inboxItems(this.deps, person));
    if (data !== this.last && !this.res.writableEnded) {
      this.last = data;
      this.res.write(`event: inbox\ndata: ${data}\n\n`);
    }
  }

  private end(): void {
    for (const stop of this.stops.splice(0)) stop();
    if (!this.res.writableEnded) this.res.end();
  }
}
