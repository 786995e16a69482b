// A reserved ledger entry for one forwarded call, and how it is settled (SPEC §10):
// - the tool's body read to its end → completed, written BEFORE the agent's response is ended (forward's
//   onCaptured hook), so an agent retrying the moment it has the answer meets the record, not
//   idempotency_in_progress; a body over 1 MiB keeps only status + digest and the entry is unknown;
// - the request never reached the tool (refused connection, DNS, connect timeout, or a later stage such as
//   approval refused the call) → released: the entry goes away and its occurrence slot is given back;
// - anything else once the request may have been sent (header timeout, reset, tool failed mid-body, gateway
//   shutdown) → unknown, since the side effect may or may not have happened.
import { isGatewayError } from '../errors/gateway-error.js';
import type { LedgerEntry, LedgerStore, UnknownReason } from '../store/ledger-types.js';
import type { Clock } from '../util/clock.js';
import type { CapturedBody, ForwardOptions, ForwardResult } from '../upstream/forward.js';
import { emptyHeaderMap, type HeaderMap } from '../upstream/headers.js';

/** SPEC §10: response bodies are recorded up to 1 MiB. */
export const MAX_RECORDED_BODY_BYTES = 1024 * 1024;

// Failures that prove the request never left the gateway (node:net/dns, undici lib/core/errors.js).
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export interface ReservationHooks {
  /** The entry became unknown during this request: an audit record goes with the tool.call. */
  onUnknown(entry: LedgerEntry, reason: UnknownReason, httpStatus: number): void;
  /** A store write failed while settling (the entry stays in flight; start-up recovery marks it unknown). */
  onError(err: unknown): void;
}

export class LedgerReservation {
  private sent = false;
  private settled = false;
  private status = 0;
  private headers: HeaderMap = {};

  constructor(
    private readonly store: LedgerStore,
    private readonly clock: Clock,
    readonly entry: LedgerEntry,
    readonly occurrence: number,
    private readonly hooks: ReservationHooks,
  ) {}

  /** Options for forward(): capture the answer and record it before the response ends. */
  forwardOptions(): Pick<ForwardOptions, 'capture' | 'onResponse' | 'onCaptured'> {
    return {
      capture: { maxBytes: MAX_RECORDED_BODY_BYTES },
      onResponse: (status, headers) => {
        this.status = status;
        this.headers = headers;
      },
      onCaptured: (captured) => this.record(captured),
    };
  }

  /** Follows the forward() of this call; settles the entry when it did not end with a recorded answer. */
  async track(pending: Promise<ForwardResult>): Promise<ForwardResult> {
    this.sent = true;
    let result: ForwardResult;
    try {
      result = await pending;
    } catch (err) {
      if (neverSent(err)) await this.release();
      else {
        const timeout = isGatewayError(err) && err.code === 'upstream_timeout';
        await this.unknown(timeout ? 'upstream_timeout' : 'upstream_reset', isGatewayError(err) ? err.status : 500);
      }
      throw err;
    }
    // Resolved without onCaptured: the tool failed or went silent mid-body.
    if (!this.settled) await this.unknown('aborted_mid_response', result.status);
    return result;
  }

  /**
   * Lets the reservation go while the call waits for a person (SPEC §9 hold): the call has not reached the
   * tool, so the entry must not stay in flight — a gateway that stopped during the wait would otherwise
   * leave an `unknown` outcome for a call that never happened. False when the store could not release it
   * (the reservation is then kept, and settled as usual).
   */
  async releaseForHold(): Promise<boolean> {
    if (this.settled || this.sent) return false;
    await this.release();
    return this.settled;
  }

  /** Request finisher: whatever is still open is settled (never forwarded → released, else unknown). */
  async settleIfOpen(): Promise<void> {
    if (this.settled) return;
    if (this.sent) await this.unknown('aborted_mid_response', this.status);
    else await this.release();
  }

  private async record(captured: CapturedBody): Promise<void> {
    const now = this.clock.now();
    try {
      const done = await this.store.complete(this.entry.entryId, this.entry.attempt, {
        status: this.status,
        headers: recordedHeaders(this.headers),
        body: captured.truncated ? null : captured.body,
        bodySha256: captured.sha256,
        bodyBytes: captured.bytes,
        now,
      });
      this.settled = true;
      if (done && captured.truncated) this.hooks.onUnknown(this.entry, 'body_too_large', this.status);
    } catch (err) {
      this.hooks.onError(err);
    }
  }

  private async release(): Promise<void> {
    try {
      await this.store.release(this.entry.entryId, this.entry.attempt, this.clock.now());
      this.settled = true;
    } catch (err) {
      this.hooks.onError(err);
    }
  }

  private async unknown(reason: UnknownReason, httpStatus: number): Promise<void> {
    try {
      if (await this.store.markUnknown(this.entry.entryId, this.entry.attempt, reason, this.clock.now())) {
        this.hooks.onUnknown(this.entry, reason, httpStatus);
      }
      this.settled = true;
    } catch (err) {
      this.hooks.onError(err);
    }
  }
}

function neverSent(err: unknown): boolean {
  const cause = isGatewayError(err) ? err.cause : err;
  const code = (cause as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && NOT_SENT_CODES.has(code);
}

/** What is replayed later: the relayed headers minus the ones that belong to one exchange. */
function recordedHeaders(headers: HeaderMap): HeaderMap {
  const out = emptyHeaderMap(); // a header named __proto__ is recorded too
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    // A replay carries its own X-Request-Id and its own replay marker.
    if (lower === 'x-request-id' || lower === 'idempotent-replayed') continue;
    out[lower] = value;
  }
  return out;
}
