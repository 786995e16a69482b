// The buffered variant of forward() (SPEC §11), for the few MCP answers the gateway must see whole before
// the agent sees any of them: a tools/list result (filtered to what policy allows) and an initialize
// answer (its Mcp-Session-Id is bound to the gateway session before the agent can use it). Everything
// else streams through forward() unbuffered (SPEC §8). Because nothing reaches the client until the
// transform has run, every failure here — including an answer over maxBytes — is still a clean HTTP
// problem reply, never a half-sent body.
import { performance } from 'node:perf_hooks';
import { validateHeaderName, validateHeaderValue, type ServerResponse } from 'node:http';
import { GatewayError } from '../errors/gateway-error.js';
import { mapUpstreamError } from './forward-errors.js';
import type { ForwardOptions, ForwardResult } from './forward.js';
import { stripResponseHeaders, type HeaderMap } from './headers.js';

export interface BufferedForwardOptions
  extends Pick<ForwardOptions, 'dispatcher' | 'url' | 'method' | 'headers' | 'body' | 'timeoutMs' | 'beforeEnd'> {
  /** Largest answer accepted; a longer one is refused with upstream_unreachable (502). */
  readonly maxBytes: number;
  /** Gets the complete answer before any of it is relayed and returns the body to send. May throw a
   *  GatewayError (e.g. store_unavailable, or a body that cannot be vetted), answered as a problem. */
  readonly transform: (status: number, headers: HeaderMap, body: Buffer) => Promise<Buffer> | Buffer;
}

export async function forwardBuffered(options: BufferedForwardOptions, res: ServerResponse): Promise<ForwardResult> {
  const started = performance.now();
  const answer = await readWholeAnswer(options, started);
  const relayed = stripResponseHeaders(answer.headers);
  const body = await options.transform(answer.status, relayed, answer.body);
  delete relayed['content-length'];
  assertValidHeaders(relayed);
  res.statusCode = answer.status;
  // Headers the gateway already set (X-Request-Id, SPEC §8) win over the tool's.
  for (const [name, value] of Object.entries(relayed)) if (!res.hasHeader(name)) res.setHeader(name, value);
  res.setHeader('content-length', body.length);
  options.beforeEnd?.();
  res.end(body);
  return { status: answer.status, upstreamMs: answer.upstreamMs, totalMs: performance.now() - started, outcome: 'ok', bytes: body.length };
}

interface WholeAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  /** Until the tool's response headers arrived. */
  readonly upstreamMs: number;
}

/** The tool's whole answer, at most maxBytes; every failure as the catalogue's upstream error. */
async function readWholeAnswer(options: BufferedForwardOptions, started: number): Promise<WholeAnswer> {
  // Split, not re-parsed, exactly as forward() does (SPEC §8: no relative URL resolution).
  const slash = options.url.indexOf('/', options.url.indexOf('//') + 2);
  const origin = slash === -1 ? options.url : options.url.slice(0, slash);
  const path = slash === -1 ? '/' : options.url.slice(slash);
  try {
    const response = await options.dispatcher.request({
      origin,
      path,
      method: options.method as 'POST',
      headers: options.headers,
      body: options.body,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    const upstreamMs = performance.now() - started;
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > options.maxBytes) {
        response.body.destroy();
        throw new GatewayError('upstream_unreachable', { detail: `The tool's answer exceeds ${options.maxBytes} bytes` });
      }
      chunks.push(chunk);
    }
    return { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks, bytes), upstreamMs };
  } catch (err) {
    throw mapUpstreamError(err);
  }
}

/** A header Node would refuse to send is the tool's fault, answered before anything is relayed. */
function assertValidHeaders(headers: HeaderMap): void {
  try {
    for (const [name, value] of Object.entries(headers)) {
      validateHeaderName(name);
      for (const v of Array.isArray(value) ? value : [value]) validateHeaderValue(name, v);
    }
  } catch (err) {
    throw new GatewayError('upstream_unreachable', { detail: 'The tool sent an invalid header', cause: err });
  }
}
