// The one request-body reader of both planes (DESIGN: shared edge helpers live in one neutral place).
// Event-driven rather than `for await`: an async iterator destroys the request when the loop throws, and
// a request that later emits 'error' with no listener would take the process down (DESIGN rule 15).
// Every framing ends in exactly one settlement: the body, payload_too_large, or bad_request.
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/gateway-error.js';

/** RFC 9112 §6.3: a request carries a body only with Content-Length (> 0) or Transfer-Encoding. */
export function declaresBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** A body the gateway stopped reading (over the limit, refused unread, cut short) must not be drained
 *  into the next request on this connection: the reply closes it. */
export function bodyLeftUnread(req: IncomingMessage): boolean {
  return declaresBody(req) && !req.readableEnded;
}

/** Listeners that outlive a request: the request and its socket may still emit errors after the reply
 *  was decided (client reset, a chunk after the limit); they are expected and must not be unhandled. */
export function ownRequestErrors(req: IncomingMessage): void {
  req.on('error', ignore);
}

function ignore(): void {}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError('payload_too_large', { detail: `The body exceeds ${maxBytes} bytes` });
}

function cutShort(): GatewayError {
  // SPEC §8: an incomplete body is the client's fault (bad_request), never internal_error.
  return new GatewayError('bad_request', { detail: 'The request body ended before it was complete' });
}

/**
 * Buffers a request body up to maxBytes; null when there is none. Larger → payload_too_large (a declared
 * Content-Length over the limit is refused without reading a byte; chunked bodies are cut at the limit and
 * reading stops). A body the client ends early, aborts or frames badly → bad_request.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  ownRequestErrors(req);
  // No body declared: skip the stream machinery, so the common GET sets up nothing.
  if (!declaresBody(req)) {
    if (!req.readableEnded) req.resume();
    return Promise.resolve(null);
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge(maxBytes));
  if (req.readableEnded || req.destroyed) return Promise.reject(cutShort());
  return collect(req, maxBytes);
}

function collect(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > maxBytes) {
        done();
        // Stop reading: the rest is never buffered; the reply closes the connection.
        req.pause();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      if (total === 0) resolve(null);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    // 'error' (reset, malformed chunk) or 'close' before 'end': the body was cut short.
    const onClose = (): void => {
      done();
      reject(cutShort());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}
