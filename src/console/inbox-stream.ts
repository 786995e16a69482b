// The live inbox: a server-sent event stream of the pending approvals this person may decide. It re-reads
// the store when this process signals a change (a call asked, a person decided, an approval was used or
// expired) and also once a second (pollMs), so what happened through another replica shows within about
// a second too. An `inbox` event carries the whole list as JSON (plain text: the page's script puts it in
// the page with textContent, never as markup), sent only when it changed. The stream checks that its
// person is still signed in without renewing the session (an open tab is not activity) and ends with an
// `end` event when they are not.
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

export function openInboxStream(deps: ConsoleDeps, streams: InboxStreams, ctx: ConsoleContext, signedIn: SignedIn): ConsoleReply {
  const { res } = ctx;
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': ctx.requestId });
  res.write(': inbox\n\n');
  const idHash = sha256Hex(signedIn.cookie);
  let last = '';
  let running: Promise<void> | null = null;
  let again = false;
  const refresh = async (): Promise<void> => {
    const record = await deps.store.consoleSessions.find(idHash, deps.clock.now());
    const person = record === null ? undefined : deps.policy.current().people.get(record.personId);
    if (person === undefined) {
      res.write('event: end\ndata: signed-out\n\n');
      end();
      return;
    }
    const data = JSON.stringify(await inboxItems(deps, person));
    if (data !== last && !res.writableEnded) {
      last = data;
      res.write(`event: inbox\ndata: ${data}\n\n`);
    }
  };
  // One refresh at a time; a signal during a refresh runs one more after it.
  const schedule = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = refresh()
      .catch((err: unknown) => deps.logger.warn({ err }, 'console inbox refresh failed'))
      .finally(() => {
        running = null;
        if (again && !res.writableEnded) {
          again = false;
          schedule();
        }
      });
  };
  const unsubscribe = deps.signal.subscribe(schedule);
  const poll = setInterval(schedule, deps.pollMs ?? DEFAULT_POLL_MS);
  const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
  const forget = streams.add(() => end());
  function end(): void {
    unsubscribe();
    clearInterval(poll);
    clearInterval(keepalive);
    forget();
    if (!res.writableEnded) res.end();
  }
  res.on('close', end);
  schedule();
  return { kind: 'streamed' };
}
