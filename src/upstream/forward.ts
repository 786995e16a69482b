// The one forwarding primitive (SPEC §8): send the request upstream with undici's low-level dispatch()
// and write the response straight into the client's ServerResponse, chunk by chunk, with backpressure.
// dispatch() was measured fastest for both 100 B and 256 KiB responses on loopback (wrk c=32, vs undici
// request()+pipe, stream() and http-proxy-3): no intermediate Readable as with request(), no finished()
// bookkeeping per response as with stream().
// Every upstream failure is mapped to a catalogue code here and nowhere else (DESIGN rule 2).
import { createHash, type Hash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import { stripResponseHeaders, type HeaderMap } from './headers.js';

export const DEFAULT_CAPTURE_BYTES = 1024 * 1024;

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
   * connection was destroyed (SPEC §8). client_closed: the agent went away mid-body; the upstream read stopped.
   */
  readonly outcome: ForwardOutcome;
  /** Body bytes relayed from the upstream. */
  readonly bytes: number;
  readonly captured?: CapturedBody;
}

// Error codes from node:net/dns and undici (lib/core/errors.js); messages are never inspected.
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_INFO',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/**
 * An upstream failure before any response as the catalogue error the agent gets (SPEC §8/§12). Unknown
 * failures are returned unchanged: they are bugs (internal_error), not tool outages.
 */
export function mapUpstreamError(err: unknown): unknown {
  if (isGatewayError(err)) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  if (TIMEOUT_CODES.has(code)) return new GatewayError('upstream_timeout', { cause: err });
  // HPE_*: llhttp could not parse the upstream's answer; to the agent that is a broken tool (502).
  if (UNREACHABLE_CODES.has(code) || code.startsWith('HPE_')) {
    return new GatewayError('upstream_unreachable', { cause: err });
  }
  return err;
}

function isEventStream(headers: HeaderMap): boolean {
  const type = headers['content-type'];
  const value = Array.isArray(type) ? type[0] : type;
  return value !== undefined && value.trimStart().toLowerCase().startsWith('text/event-stream');
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
  const captureMax = options.capture ? (options.capture.maxBytes ?? DEFAULT_CAPTURE_BYTES) : -1;
  const idleMs = options.idleTimeoutMs ?? options.timeoutMs;

  return new Promise<ForwardResult>((resolve, reject) => {
    let phase: 'waiting' | 'streaming' | 'done' = 'waiting';
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let upstreamMs = 0;
    let bytes = 0;
    let clientClosed = false;
    let idleTimer: NodeJS.Timeout | undefined;
    const chunks: Buffer[] = [];
    let filter: ReturnType<NonNullable<ForwardOptions['bodyFilter']>>;
    let captured = 0;
    let truncated = false;
    const digest: Hash | undefined = captureMax >= 0 ? createHash('sha256') : undefined;
    let capturedBody: CapturedBody | undefined;

    const abortWith = (reason: Error): void => {
      if (controller) controller.abort(reason);
      else if (phase === 'waiting') fail(reason); // still queued in the pool: answer now, abort on connect
    };
    const headerTimer = setTimeout(() => {
      abortWith(new GatewayError('upstream_timeout', { detail: `No response from the tool within ${options.timeoutMs} ms` }));
    }, options.timeoutMs);
    const onSignal = (): void => abortWith(toError(options.signal?.reason));
    options.signal?.addEventListener('abort', onSignal, { once: true });

    const cleanup = (): void => {
      clearTimeout(headerTimer);
      if (idleTimer) clearTimeout(idleTimer);
      options.signal?.removeEventListener('abort', onSignal);
      res.off('drain', onDrain);
      res.off('close', onClientClose);
    };
    const fail = (err: unknown): void => {
      if (phase !== 'waiting') return;
      phase = 'done';
      cleanup();
      reject(mapUpstreamError(err));
    };
    const finish = (outcome: ForwardOutcome): void => {
      if (phase === 'done') return;
      phase = 'done';
      cleanup();
      const end = performance.now();
      const result: ForwardResult = {
        status,
        upstreamMs,
        totalMs: end - started,
        outcome,
        bytes,
        ...(captureMax >= 0 ? { captured: capturedBody ?? takeCapture() } : {}),
      };
      resolve(result);
    };
    const takeCapture = (): CapturedBody => {
      capturedBody ??= { body: Buffer.concat(chunks, captured), truncated, sha256: digest!.digest('hex'), bytes };
      return capturedBody;
    };
    const armIdle = (ms: number): void => {
      if (ms <= 0) return;
      if (idleTimer) idleTimer.refresh();
      else idleTimer = setTimeout(() => abortWith(new GatewayError('upstream_timeout', { detail: 'Tool went silent mid-response' })), ms);
    };
    const onDrain = (): void => controller?.resume();
    // The agent went away mid-body: stop reading the tool. Before the response we keep waiting (SPEC §8:
    // the gateway still records the outcome of a call the agent abandoned).
    const onClientClose = (): void => {
      if (phase !== 'streaming' || res.writableFinished || clientClosed) return;
      clientClosed = true;
      // Capturing for the ledger: keep reading the tool's answer so its outcome can be recorded.
      if (digest) controller?.resume();
      else controller?.abort(new Error('client closed'));
    };

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(ctrl) {
        controller = ctrl;
        if (phase !== 'waiting') ctrl.abort(new GatewayError('upstream_timeout'));
      },
      onResponseStart(ctrl, statusCode, headers) {
        if (statusCode < 200 || phase !== 'waiting') return; // 1xx: informational, not relayed
        const relayed = stripResponseHeaders(headers as Record<string, string | string[] | undefined>);
        const refused = relayHeaders(relayed, res);
        if (refused !== undefined) {
          // Node refused a header the tool sent: nothing was sent yet, so this is a bad gateway (502).
          ctrl.abort(new GatewayError('upstream_unreachable', { detail: 'The tool sent an invalid header', cause: refused }));
          return;
        }
        filter = options.bodyFilter?.(relayed);
        if (filter) delete relayed['content-length']; // the filtered body may be shorter
        res.statusCode = statusCode;
        phase = 'streaming';
        status = statusCode;
        upstreamMs = performance.now() - started;
        clearTimeout(headerTimer);
        options.onResponse?.(statusCode, relayed);
        res.on('drain', onDrain);
        res.on('close', onClientClose);
        if (isEventStream(relayed)) {
          // SSE: the agent must see the headers now, not with the first event (which may be minutes away).
          res.flushHeaders();
          armIdle(options.streamIdleTimeoutMs ?? 0);
        } else {
          armIdle(idleMs);
        }
        if (res.destroyed) onClientClose();
      },
      onResponseData(ctrl, chunk) {
        if (phase !== 'streaming') return;
        bytes += chunk.length;
        digest?.update(chunk);
        if (captureMax >= 0 && !truncated) {
          const room = captureMax - captured;
          if (chunk.length <= room) {
            chunks.push(chunk);
            captured += chunk.length;
          } else {
            if (room > 0) chunks.push(chunk.subarray(0, room));
            captured += Math.max(room, 0);
            truncated = true;
          }
        }
        if (idleTimer) idleTimer.refresh();
        if (clientClosed) return; // draining for the ledger: nobody to write to
        let out = chunk;
        try {
          if (filter) out = filter.push(chunk);
        } catch (err) {
          ctrl.abort(toError(err)); // a body the filter cannot vet is cut off, never relayed unvetted
          return;
        }
        if (out.length > 0 && !res.write(out)) ctrl.pause();
      },
      onResponseEnd() {
        if (phase !== 'streaming') return;
        const end = (): void => {
          // Trailers are not relayed: Node only sends them on a chunked response that declared them.
          const tail = filter && !clientClosed ? filter.end() : undefined;
          options.beforeEnd?.();
          res.end(tail);
          finish(clientClosed ? 'client_closed' : 'ok');
        };
        if (!options.onCaptured || !digest) {
          end();
          return;
        }
        if (idleTimer) clearTimeout(idleTimer);
        void options.onCaptured(takeCapture()).then(end, end);
      },
      onResponseError(_ctrl, err) {
        if (phase === 'waiting') {
          fail(err);
          return;
        }
        if (phase !== 'streaming') return;
        // SPEC §8: a failure after the response started aborts the client connection (a truncated body
        // must not look complete); the caller audits the outcome.
        res.destroy();
        finish(clientClosed ? 'client_closed' : 'aborted_after_response');
      },
    };

    try {
      options.dispatcher.dispatch(
        {
          origin,
          path,
          method: options.method,
          headers: options.headers,
          body: options.body,
          headersTimeout: options.timeoutMs,
          bodyTimeout: 0, // idle time is policed above, per response type
        },
        handler,
      );
    } catch (err) {
      fail(err);
    }
  });
}

/**
 * Sets the tool's headers on `res`; headers the gateway already set (X-Request-Id, SPEC §8) win. setHeader
 * validates name and value itself (RFC 9110 §5.1, §5.5); when it refuses one, the headers set so far are
 * removed again, so `res` is left clean for the caller's problem reply. Returns the refusal, if any.
 */
export function relayHeaders(relayed: HeaderMap, res: ServerResponse): unknown {
  const set: string[] = [];
  try {
    for (const name in relayed) {
      if (res.hasHeader(name)) continue;
      res.setHeader(name, relayed[name] as string | string[]);
      set.push(name);
    }
    return undefined;
  } catch (err) {
    for (const name of set) res.removeHeader(name);
    return err;
  }
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error('forward aborted');
}
