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
  const { clock, logger } = options;
  let downSince: number | undefined;
  let refused = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const unavailable = (): GatewayError =>
    new GatewayError('audit_unavailable', { detail: 'The audit stream cannot be written; failing closed' });

  const goDown = (err: unknown): void => {
    if (downSince !== undefined) return;
    downSince = clock.now();
    refused = 0;
    logger.error({ err }, 'audit stream write failed: refusing requests until it recovers');
    retryTimer = setInterval(retry, options.retryMs ?? RETRY_MS);
    retryTimer.unref();
  };

  // Owns its errors (DESIGN rule 15): a retry that fails again only waits for the next tick.
  function retry(): void {
    if (downSince === undefined || closed) return;
    const now = clock.now();
    try {
      inner.write(recoveredEvent(now, now - downSince, refused));
    } catch {
      return;
    }
    logger.warn({ outage_ms: now - downSince, refused_requests: refused }, 'audit stream recovered');
    downSince = undefined;
    clearInterval(retryTimer);
    retryTimer = undefined;
  }

  return {
    write(event: AuditEvent): void {
      if (downSince !== undefined) throw unavailable();
      try {
        inner.write(event);
      } catch (err) {
        goDown(err);
        throw unavailable();
      }
    },
    close(): void {
      closed = true;
      if (retryTimer) clearInterval(retryTimer);
      inner.close();
    },
    isAvailable: () => downSince === undefined,
    countRefused: () => {
      if (downSince !== undefined) refused += 1;
    },
  };
}

function recoveredEvent(now: number, outageMs: number, refused: number): AuditEvent {
  return {
    event: 'audit.recovered',
    time: now,
    status: 'ok',
    actor: SYSTEM_ACTOR,
    extra: { outage_ms: outageMs, refused_requests: refused },
  };
}
