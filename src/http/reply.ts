// Writing a reply on an error path (DESIGN rule 15): it never throws and never assumes the socket is still
// there. A client that went away, a response another writer already ended, a header Node refuses: each
// ends in "nothing more to send", never in an exception out of the request's error path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProblemReply } from '../errors/problem.js';
import { bodyLeftUnread } from './read-body.js';

/** Headers a runner sets before a reply is chosen and keeps on whatever reply is sent. */
const KEPT_HEADERS: ReadonlySet<string> = new Set(['x-request-id']);

/**
 * Sends `reply` unless the response already went out. Headers a failed attempt left on `res` (a tool's, a
 * replay's) are dropped first so they cannot contradict the problem body. A body the gateway did not read
 * to its end closes the connection, so the rest is never parsed as a next request.
 */
export function sendReply(req: IncomingMessage, res: ServerResponse, reply: ProblemReply, extra: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.headersSent) {
    // A response that started cannot become a problem: cut it so it never looks complete (SPEC §8).
    res.destroy();
    return;
  }
  try {
    for (const name of res.getHeaderNames()) if (!KEPT_HEADERS.has(name)) res.removeHeader(name);
    const headers: Record<string, string> = { ...reply.headers, ...extra };
    if (bodyLeftUnread(req)) headers.connection = 'close';
    res.writeHead(reply.status, headers);
    res.end(reply.body);
  } catch {
    res.destroy();
  }
}

/** Writes to a response that may be gone emit 'error' later; they are expected, not crashes. */
export function ownResponseErrors(res: ServerResponse): void {
  res.on('error', ignore);
}

function ignore(): void {}
