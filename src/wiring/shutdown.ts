// The order a running gateway stops in (SPEC §14): readiness off, background work stopped, streams and held
// calls ended, listeners drained, the last records written and anchored, then the store closed.
import type { Readiness } from '../control/health.js';
import { closeServer } from '../http/listeners.js';
import { SYSTEM_ACTOR } from '../audit/envelope.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import type { ReplicaPresence } from '../ledger/replica-presence.js';
import type { GatewayAuditStream } from './audit-stream.js';
import type { Background } from './background.js';
import type { GatewayServers } from './servers.js';
import type { GatewayServices } from './services.js';
import type { StartContext } from './start-context.js';

export interface RunningParts {
  readonly ctx: StartContext;
  readonly readiness: Readiness;
  readonly stream: GatewayAuditStream;
  readonly metrics: GatewayMetrics;
  readonly services: GatewayServices;
  readonly servers: GatewayServers;
  readonly background: Background;
  readonly presence: ReplicaPresence;
  readonly closeStore: () => Promise<void>;
}

export async function shutdown(parts: RunningParts, graceMs: number): Promise<void> {
  const { readiness, services, servers } = parts;
  readiness.ready = false;
  parts.background.stop();
  // Open streams and held calls end now, so idle listeners do not hold the drain (SPEC §8, §14).
  services.live.close();
  servers.consoleStreams.closeAll();
  await Promise.all([closeServer(servers.data, graceMs), closeServer(servers.control, graceMs)]);
  // A request whose connection just closed may still be settling (writing its tool.call record).
  await services.live.idle(Math.min(graceMs, 1000));
  services.live.dispose();
  await closeAuditAndOutbox(parts);
  await services.dispatchers.close();
  parts.stream.audit.close();
  // SPEC §17: a stopped replica's in-flight entries are recoverable at once by the others.
  await parts.presence.stop().catch((err: unknown) => parts.ctx.logger.warn({ err }, 'replica stop could not be recorded'));
  await parts.ctx.signals.close();
  await parts.closeStore();
}

async function closeAuditAndOutbox(parts: RunningParts): Promise<void> {
  const { audit, notifier, worker } = parts.stream;
  const { clock, logger } = parts.ctx;
  try {
    audit.write({ event: 'gateway.stop', time: clock.now(), status: 'ok', actor: SYSTEM_ACTOR });
  } catch (err) {
    logger.error({ err }, 'gateway.stop could not be audited');
  }
  // The last anchor covers gateway.stop, and is stored before the store closes.
  audit.anchorNow();
  await audit.flush();
  // Notifications of the last actions are written before the store closes; attempts in flight end.
  await notifier.flush();
  await worker.stop();
}
