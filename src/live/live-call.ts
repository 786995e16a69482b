// One data-plane call while it is in flight (SPEC §8 "Open streams are fenced too"): registered under its
// session and the epoch whose token admitted it, from the fence stage until the request is settled.
// The registry (live-calls.ts) ends it when that session stops accepting that epoch; the stages that wait
// or forward read `signal` and say what they are doing, so ending does the right thing for each phase.
import type { ServerResponse } from 'node:http';

/**
 * admitted: between stages (body read, ledger): the next stage refuses with the signal's reason.
 * held: waiting for an approval decision: the wait ends and the flow throws the reason (SPEC §9.4).
 * forwarding: the upstream has the request; see end().
 */
export type LivePhase = 'admitted' | 'held' | 'forwarding';

export class LiveCall {
  private readonly controller = new AbortController();
  private phase: LivePhase = 'admitted';
  /** Set by the forward stage: forward() got `signal` and aborts the upstream itself when it fires. */
  private upstreamFollowsSignal = false;
  private released = false;

  constructor(
    readonly sessionId: string,
    readonly epoch: number,
    private readonly res: ServerResponse,
    /** False for a call admitted over the session's in-flight limit: it holds no slot and is refused. */
    readonly counted: boolean,
    private readonly onRelease: (call: LiveCall) => void,
  ) {}

  /** Aborts, with the session's refusal (a GatewayError) or a shutdown Error as reason, when the call is ended. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** A call ended between stages (reading its body, in the ledger) goes no further: its refusal is the answer. */
  throwIfEnded(): void {
    if (this.controller.signal.aborted) throw this.controller.signal.reason;
  }

  setPhase(phase: LivePhase, upstreamFollowsSignal = false): void {
    this.phase = phase;
    this.upstreamFollowsSignal = upstreamFollowsSignal;
  }

  get isHeld(): boolean {
    return this.phase === 'held';
  }

  /** A response stream is open to the client (SSE): an idle listener that a shutdown must not wait for. */
  get isOpenStream(): boolean {
    if (this.phase !== 'forwarding' || !this.res.headersSent || this.res.writableEnded) return false;
    const type = this.res.getHeader('content-type');
    return typeof type === 'string' && type.trimStart().toLowerCase().startsWith('text/event-stream');
  }

  /**
   * Ends the call with `reason`, once. Before and while held, only the signal fires: the pipeline answers the
   * reason as its refusal. While forwarding, a forward that follows the signal aborts the upstream (and, before
   * the response, the refusal is answered); the client response is destroyed once it started, and at once when
   * the forward does not follow the signal (a ledger capture keeps reading the tool to record the outcome,
   * SPEC §10, but nothing more reaches the fenced worker).
   */
  end(reason: Error): void {
    if (this.controller.signal.aborted || this.released) return;
    this.controller.abort(reason);
    if (this.phase !== 'forwarding') return;
    if (!this.upstreamFollowsSignal || this.res.headersSent) this.res.destroy();
  }

  /** Frees the call's slot; idempotent, so every way a request ends may call it. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease(this);
  }
}
