// The one forwarding primitive (SPEC §8): send the request upstream with undici's low-level dispatch()
// and write the response straight into the client's ServerResponse, chunk by chunk, with backpressure.
// dispatch() was measured fastest for both 100 B and 256 KiB responses on loopback (wrk c=32, vs undici
// request()+pipe, stream() and http-proxy-3): no intermediate Readable as with request(), no finished()
// bookkeeping per response as with stream().
// This file is the contract (options, result) and the entry point; the exchange itself is forward-relay.ts,
// the ledger's copy of the body body-capture.ts, and the mapping of failures to catalogue codes
// forward-errors.ts (DESIGN rule 2: there and nowhere else).
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { BodyCapture, DEFAULT_CAPTURE_BYTES } from './body-capture.js';
import { ForwardRelay } from './forward-relay.js';
import type { HeaderMap } from './headers.js';

export interface ForwardOptions {
  /** The tool's pool (dispatchers.ts), never built per request. */
  readonly dispatcher: Dispatcher;
  /** Absolute upstream URL from buildUpstreamUrl(). */
  readonly url: string;
  readonly method: string;
  readonly headers: HeaderMap;
  readonly body: Buffer | Readable | null;
  /** SPEC §8 timeout_ms: from dispatch (pool queueing and connect included) to response headers. */
  readonly timeoutMs: number;
  /**
   * Longest silence between body chunks once the response started (default timeoutMs; 0 = none).
   * Never applied to text/event-stream, where long quiet periods are normal (see streamIdleTimeoutMs).
   */
  readonly idleTimeoutMs?: number;
  /** SPEC §2 stream_idle_timeout_ms: a text/event-stream with no bytes for this long is closed, so an idle
   *  stream cannot hold one of the tool's pooled connections forever (0 or absent = none). */
  readonly streamIdleTimeoutMs?: number;
  /** Aborts the exchange (e.g. shutdown grace expired). Before a response, the promise rejects with the reason. */
  readonly signal?: AbortSignal;
  /** Keep a copy of the response body, up to maxBytes (default 1 MiB), while streaming it (ledger, SPEC §10). */
  readonly capture?: { readonly maxBytes?: number };
  /** Rewrites the relayed body as it streams, chosen once the response headers are known (MCP list
   *  filtering on unbuffered SSE, SPEC §11). The ledger still captures the tool's own bytes. A push that
   *  throws aborts the exchange like a failure after the response started. */
  readonly bodyFilter?: (headers: HeaderMap) => { push(chunk: Buffer): Buffer; end(): Buffer } | undefined;
  /** Called once with the upstream status and relayed headers, before the first byte goes to the client. */
  readonly onResponse?: (status: number, headers: HeaderMap) => void;
  /** Called synchronously right before the client response is ended (the audit record is written here,
   *  SPEC §13: before the response it describes is finished). */
  readonly beforeEnd?: () => void;
  /**
   * With capture (ledger, SPEC §10): called once the tool's body was read to its end, and awaited BEFORE the
   * client response is ended, so the recorded outcome is in the store before the agent can see the answer
   * (a retry right after it replays instead of meeting idempotency_in_progress). With capture, an agent
   * that goes away mid-body does not stop the read either (SPEC §8: the outcome is still recorded).
   * Must not reject.
   */
  readonly onCaptured?: (captured: CapturedBody) => Promise<void>;
}

export interface CapturedBody {
  /** The first maxBytes of the body. */
  readonly body: Buffer;
  /** The body was longer than maxBytes. */
  readonly truncated: boolean;
  /** Lowercase hex SHA-256 of the whole body, however long. */
  readonly sha256: string;
  readonly bytes: number;
}

export type ForwardOutcome = 'ok' | 'aborted_after_response' | 'client_closed';

export interface ForwardResult {
  readonly status: number;
  /** Dispatch to upstream response headers, ms. */
  readonly upstreamMs: number;
  /** Dispatch to the last byte relayed (or the abort), ms. */
  readonly totalMs: number;
  /**
   * ok: relayed completely. aborted_after_response: the upstream failed or went silent mid-body, the client
   * connection was destroyed (SPEC §8). client_closed: the agent went away mid-body; the upstream read stopped
   * (kept reading when capturing for the ledger). The audit record says which (pipeline/run.ts).
   */
  readonly outcome: ForwardOutcome;
  /** Body bytes relayed from the upstream. */
  readonly bytes: number;
  readonly captured?: CapturedBody;
}

/**
 * Forwards one request and relays the answer to `res`. Rejects (before anything was sent to the client)
 * with upstream_timeout / upstream_unreachable; once the response has started it never rejects.
 */
export function forward(options: ForwardOptions, res: ServerResponse): Promise<ForwardResult> {
  const started = performance.now();
  // Split, not re-parsed: WHATWG URL parsing would re-normalise the path we built (SPEC §8: no resolution).
  const slash = options.url.indexOf('/', options.url.indexOf('//') + 2);
  const origin = slash === -1 ? options.url : options.url.slice(0, slash);
  const path = slash === -1 ? '/' : options.url.slice(slash);
  const capture = options.capture ? new BodyCapture(options.capture.maxBytes ?? DEFAULT_CAPTURE_BYTES) : undefined;

  return new Promise<ForwardResult>((resolve, reject) => {
    const relay = new ForwardRelay(options, res, started, capture, { resolve, reject });
    try {
      options.dispatcher.dispatch(
        {
          origin,
          path,
          method: options.method,
          headers: options.headers,
          body: options.body,
          headersTimeout: options.timeoutMs,
          bodyTimeout: 0, // idle time is policed by the relay, per response type
        },
        relay,
      );
    } catch (err) {
      relay.fail(err);
    }
  });
}
