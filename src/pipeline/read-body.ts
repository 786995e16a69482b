import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors/gateway-error.js';

/** Buffers a request body up to maxBytes; larger → payload_too_large before anything is forwarded.
 *  A declared Content-Length over the limit is refused without reading a byte. */
/** RFC 9112 §6.3: a request carries a body only with Content-Length (> 0) or Transfer-Encoding. */
export function declaresBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  const declared = req.headers['content-length'];
  // No body declared: skip the stream machinery, so the common GET sets up no async iterator.
  if (!declaresBody(req)) {
    if (!req.readableEnded) req.resume();
    return null;
  }
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw new GatewayError('payload_too_large', { detail: `The body exceeds ${maxBytes} bytes` });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      // Stop reading; the connection is closed after the reply so the rest is not drained.
      req.pause();
      throw new GatewayError('payload_too_large', { detail: `The body exceeds ${maxBytes} bytes` });
    }
    chunks.push(chunk);
  }
  if (total === 0) return null;
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}
