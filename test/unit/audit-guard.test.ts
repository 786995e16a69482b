import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { guardAuditLog } from '../../src/audit/audit-guard.js';
import type { AuditEvent, AuditLog } from '../../src/audit/types.js';
import { isGatewayError } from '../../src/errors/gateway-error.js';
import { ManualClock } from '../../src/util/clock.js';
import { waitUntil } from '../helpers/raw-http.js';

function flaky(): AuditLog & { broken: boolean; written: AuditEvent[]; attempts: number } {
  const log = {
    broken: false,
    written: [] as AuditEvent[],
    attempts: 0,
    write(event: AuditEvent): void {
      log.attempts += 1;
      if (log.broken) throw new Error('ENOSPC');
      log.written.push(event);
    },
    close(): void {},
  };
  return log;
}

const event = (): AuditEvent => ({ event: 'session.create', time: 1, status: 'ok' });

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    return isGatewayError(err) ? err.code : 'not a GatewayError';
  }
  return undefined;
}

describe('guardAuditLog (SPEC §13: fail closed, not fatal)', () => {
  it('turns a failed write into audit_unavailable, refuses later writes without trying, and recovers with audit.recovered first', async () => {
    const inner = flaky();
    const clock = new ManualClock(1_000);
    const guard = guardAuditLog(inner, { clock, logger: pino({ level: 'silent' }), retryMs: 5 });
    guard.write(event());
    inner.broken = true;
    expect(codeOf(() => guard.write(event()))).toBe('audit_unavailable');
    expect(guard.isAvailable()).toBe(false);
    const attempts = inner.attempts;
    // While down, a record is never attempted out of turn: audit.recovered must be the first one written.
    expect(codeOf(() => guard.write(event()))).toBe('audit_unavailable');
    expect(inner.attempts).toBe(attempts);
    guard.countRefused();
    guard.countRefused();
    clock.advance(2_500);
    inner.broken = false;
    await waitUntil(() => guard.isAvailable(), 2_000);
    expect(inner.written.map((e) => e.event)).toEqual(['session.create', 'audit.recovered']);
    expect(inner.written[1]!.extra).toEqual({ outage_ms: 2_500, refused_requests: 2 });
    guard.write(event());
    expect(inner.written).toHaveLength(3);
    guard.close();
  });
});
