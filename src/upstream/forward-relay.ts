// One forwarded exchange (forward.ts starts it): the undici dispatch handler that relays the tool's answer
// into the agent's ServerResponse chunk by chunk with backpressure, polices the header and idle timeouts,
// and settles forward()'s promise exactly once. All per-request state lives on this one object, and the
// listeners it registers are its own fields, bound once: the hot path allocates no closures per chunk.
//
// Phases: 'waiting' (no response yet: a failure rejects with a catalogue error, SPEC §8/§12) →
// 'streaming' (the response started: nothing rejects any more, a failure cuts the agent off) → 'done'.
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../errors/gateway-error.js';
import type { BodyCapture } from './body-capture.js';
import { mapUpstreamError, toError } from './forward-errors.js';
import type { ForwardOptions, ForwardOutcome, ForwardResult } from './forward.js';
import { isEventStream, relayHeaders, stripResponseHeaders, type HeaderMap } from './headers.js';

type BodyFilter = ReturnType<NonNullable<ForwardOptions['bodyFilter']>>;

/** How forward() settles its promise; the relay calls exactly one of them, once. */
export interface ForwardSettlers {
  readonly resolve: (result: ForwardResult) => void;
  readonly reject: (err: unknown) => void;
}

export class ForwardRelay implements Dispatcher.DispatchHandler {
  private phase: 'waiting' | 'streaming' | 'done' = 'waiting';
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private upstreamMs = 0;
  private bytes = 0;
  private clientClosed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private filter: BodyFilter;
  private readonly headerTimer: NodeJS.Timeout;
  private readonly options: ForwardOptions;
  private readonly res: ServerResponse;
  private readonly started: number;
  private readonly capture: BodyCapture | undefined;
  private readonly settlers: ForwardSettlers;

  constructor(options: ForwardOptions, res: ServerResponse, started: number, capture: BodyCapture | undefined, settlers: ForwardSettlers) {
    this.options = options;
    this.res = res;
    this.started = started;
    this.capture = capture;
    this.settlers = settlers;
    // SPEC §8 timeout_ms runs from dispatch, so pool queueing and connecting count against it too.
    this.headerTimer = setTimeout(this.onHeaderTimeout, options.timeoutMs);
    options.signal?.addEventListener('abort', this.onSignal, { once: true });
  }

  // --- undici's dispatch handler ---

  onRequestStart(ctrl: Dispatcher.DispatchController): void {
    this.controller = ctrl;
    // Already answered while queued in the pool (timeout or signal): the connection must not be used.
    if (this.phase !== 'waiting') ctrl.abort(new GatewayError('upstream_timeout'));
  }

  onResponseStart(ctrl: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200 || this.phase !== 'waiting') return; // 1xx: informational, not relayed
    const relayed = stripResponseHeaders(headers);
    const refused = relayHeaders(relayed, this.res);
    if (refused !== undefined) {
      // Node refused a header the tool sent: nothing was sent yet, so this is a bad gateway (502).
      ctrl.abort(new GatewayError('upstream_unreachable', { detail: 'The tool sent an invalid header', cause: refused }));
      return;
    }
    this.startStreaming(statusCode, relayed);
  }

  onResponseData(ctrl: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.phase !== 'streaming') return;
    this.bytes += chunk.length;
    this.capture?.add(chunk);
    if (this.idleTimer) this.idleTimer.refresh();
    if (this.clientClosed) return; // draining for the ledger: nobody to write to
    this.relayChunk(ctrl, chunk);
  }

  onResponseEnd(): void {
    if (this.phase !== 'streaming') return;
    const onCaptured = this.options.onCaptured;
    if (!onCaptured || !this.capture) {
      this.endClientResponse();
      return;
    }
    // SPEC §10: the outcome is recorded before the agent can see the answer end; no idle limit meanwhile.
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const end = (): void => this.endClientResponse();
    void onCaptured(this.capture.take(this.bytes)).then(end, end);
  }

  onResponseError(_ctrl: Dispatcher.DispatchController, err: Error): void {
    if (this.phase === 'waiting') {
      this.fail(err);
      return;
    }
    if (this.phase !== 'streaming') return;
    // SPEC §8: a failure after the response started aborts the client connection (a truncated body must not
    // look complete); the caller audits the outcome. If the agent had gone first, that is what happened.
    this.res.destroy();
    this.finish(this.clientClosed ? 'client_closed' : 'aborted_after_response');
  }

  /** Before any response: rejects forward() with the failure as a catalogue error. Ignored once settled. */
  fail(err: unknown): void {
    if (this.phase !== 'waiting') return;
    this.phase = 'done';
    this.cleanup();
    this.settlers.reject(mapUpstreamError(err));
  }

  // --- steps ---

  /** The tool answered: commit its status, hand the headers on, and start policing the body. */
  private startStreaming(statusCode: number, relayed: HeaderMap): void {
    const { options, res } = this;
    this.filter = options.bodyFilter?.(relayed);
    if (this.filter) delete relayed['content-length']; // the filtered body may be shorter
    res.statusCode = statusCode;
    this.phase = 'streaming';
    this.status = statusCode;
    this.upstreamMs = performance.now() - this.started;
    clearTimeout(this.headerTimer);
    options.onResponse?.(statusCode, relayed);
    res.on('drain', this.onDrain);
    res.on('close', this.onClientClose);
    if (isEventStream(relayed)) {
      // SSE: the agent must see the headers now, not with the first event (which may be minutes away).
      res.flushHeaders();
      this.armIdle(options.streamIdleTimeoutMs ?? 0);
    } else {
      this.armIdle(options.idleTimeoutMs ?? options.timeoutMs);
    }
    if (res.destroyed) this.onClientClose(); // the agent left before the answer came
  }

  /** Writes one chunk (through the body filter, if any) and pauses the tool while the agent is behind. */
  private relayChunk(ctrl: Dispatcher.DispatchController, chunk: Buffer): void {
    let out = chunk;
    try {
      if (this.filter) out = this.filter.push(chunk);
    } catch (err) {
      ctrl.abort(toError(err)); // a body the filter cannot vet is cut off, never relayed unvetted
      return;
    }
    if (out.length > 0 && !this.res.write(out)) ctrl.pause();
  }

  /** The tool's body ended: end the agent's response (audit first, SPEC §13) and settle. */
  private endClientResponse(): void {
    // Trailers are not relayed: Node only sends them on a chunked response that declared them.
    const tail = this.filter && !this.clientClosed ? this.filter.end() : undefined;
    this.options.beforeEnd?.();
    this.res.end(tail);
    this.finish(this.clientClosed ? 'client_closed' : 'ok');
  }

  /** Once the response started: resolves forward() with how the relay ended. Ignored once settled. */
  private finish(outcome: ForwardOutcome): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    this.cleanup();
    const end = performance.now();
    const result: ForwardResult = {
      status: this.status,
      upstreamMs: this.upstreamMs,
      totalMs: end - this.started,
      outcome,
      bytes: this.bytes,
      ...(this.capture ? { captured: this.capture.take(this.bytes) } : {}),
    };
    this.settlers.resolve(result);
  }

  private cleanup(): void {
    clearTimeout(this.headerTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.options.signal?.removeEventListener('abort', this.onSignal);
    this.res.off('drain', this.onDrain);
    this.res.off('close', this.onClientClose);
  }

  /** Aborts the exchange; still queued in the pool, it answers now and the connection is aborted on start. */
  private abortWith(reason: Error): void {
    if (this.controller) this.controller.abort(reason);
    else if (this.phase === 'waiting') this.fail(reason);
  }

  /** Arms (or re-arms) the longest allowed silence between body chunks; 0 means none. */
  private armIdle(ms: number): void {
    if (ms <= 0) return;
    if (this.idleTimer) this.idleTimer.refresh();
    else this.idleTimer = setTimeout(this.onIdleTimeout, ms);
  }

  // --- listeners, bound once per exchange ---

  private readonly onHeaderTimeout = (): void => {
    this.abortWith(new GatewayError('upstream_timeout', { detail: `No response from the tool within ${this.options.timeoutMs} ms` }));
  };

  private readonly onIdleTimeout = (): void => {
    this.abortWith(new GatewayError('upstream_timeout', { detail: 'Tool went silent mid-response' }));
  };

  private readonly onSignal = (): void => this.abortWith(toError(this.options.signal?.reason));

  private readonly onDrain = (): void => this.controller?.resume();

  // The agent went away mid-body: stop reading the tool. Before the response we keep waiting (SPEC §8:
  // the gateway still records the outcome of a call the agent abandoned).
  private readonly onClientClose = (): void => {
    if (this.phase !== 'streaming' || this.res.writableFinished || this.clientClosed) return;
    this.clientClosed = true;
    // Capturing for the ledger: keep reading the tool's answer so its outcome can be recorded.
    if (this.capture) this.controller?.resume();
    else this.controller?.abort(new Error('client closed'));
  };
}
