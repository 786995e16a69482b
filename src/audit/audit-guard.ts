// Fail closed, not fatal (SPEC §13 "When the stream cannot be written"): a failed write turns the stream
// unavailable instead of throwing a crash through whoever wrote. While it is unavailable every write is
// refused at once with audit_unavailable (no record may slip in ahead of audit.recovered), the runners refuse
// new requests, and a timer retries at least every second. The retry writes the audit.recovered record
// itself, so the first record after an outage always says how long it lasted and how much was refused.
// The writer underneath only links a record into the hash chain once it was written, so a record that
// failed is never a link of the chain (file-audit-log.ts).
import { SYSTEM_ACTOR } from './envelope.js';
import type { Logger } from 'pino';
import { GatewayError } from '../errors/gateway-error.js';
import type { Clock } from '../util/clock.js';
import type { AuditEvent, AuditLog, AuditStream } from './types.js';

export interface AuditGuardOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often a failed stream is retried (SPEC §13: at least every second). */
  readonly retryMs?: number;
}

const RETRY_MS = 1_000;

export function guardAuditLog(inner: AuditLog, options: AuditGuardOptions): AuditStream {
  return new GuardedAuditStream(inner, options);
}

class GuardedAuditStream implements AuditStream {
  private downSince: number | undefined;
  private refused = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly inner: AuditLog,
    private readonly options: AuditGuardOptions,
  ) {}

  write(event: AuditEvent): void {
    if (this.downSince !== undefined) throw unavailable();
    try {
      this.inner.write(event);
    } catch (err) {
      this.goDown(err);
      throw unavailable();
    }
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.inner.close();
  }

  isAvailable(): boolean {
    return this.downSince === undefined;
  }

  countRefused(): void {
    if (this.downSince !== undefined) this.refused += 1;
  }

  private goDown(err: unknown): void {
    if (this.downSince !== undefined) return;
    this.downSince = this.options.clock.now();
    this.refused = 0;
    this.options.logger.error({ err }, 'audit stream write failed: refusing requests until it recovers');
    this.retryTimer = setInterval(() => this.retry(), this.options.retryMs ?? RETRY_MS);
    this.retryTimer.unref();
  }

  /** Owns its errors (DESIGN rule 15): a retry that fails again only waits for the next tick. */
  private retry(): void {
    if (this.downSince === undefined || this.closed) return;
    const now = this.options.clock.now();
    const outageMs = now - this.downSince;
    try {
      this.inner.write(recoveredEvent(now, outageMs, this.refused));
    } catch {
      return;
    }
    this.options.logger.warn({ outage_ms: outageMs, refused_requests: this.refused }, 'audit stream recovered');
    this.downSince = undefined;
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
  }
}

const unavailable = (): GatewayError =>
  new GatewayError('audit_unavailable', { detail: 'The audit stream cannot be written; failing closed' });

function recoveredEvent(now: number, outageMs: number, refused: number): AuditEvent {
  return {
    event: 'audit.recovered',
    time: now,
    status: 'ok',
    actor: SYSTEM_ACTOR,
    extra: { outage_ms: outageMs, refused_requests: refused },
  };
}
