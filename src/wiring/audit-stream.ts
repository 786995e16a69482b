// Start-up phase: the audit stream every decision is written to (SPEC §13), with its anchors, and the
// webhook notifier that observes it (SPEC §18). Built before anything that audits.
import { anchorAuditStream, type AnchoredAuditStream } from '../audit/anchors.js';
import { guardAuditLog } from '../audit/audit-guard.js';
import { openAuditLog } from '../audit/file-audit-log.js';
import type { AuditLog } from '../audit/types.js';
import { formatHost } from '../http/listeners.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import { notifyingAudit } from '../notify/audit-hook.js';
import { consoleLink } from '../notify/console-link.js';
import { Notifier } from '../notify/notifier.js';
import { DeliveryWorker } from '../notify/worker.js';
import type { KeyRing } from '../sessions/key-ring.js';
import { PRODUCT_VERSION } from '../version.js';
import type { StartContext } from './start-context.js';

export interface GatewayAuditStream {
  /** The stream the gateway writes to: guarded, anchored and observed by the notifier. */
  readonly audit: AnchoredAuditStream;
  readonly notifier: Notifier;
  readonly worker: DeliveryWorker;
}

export function openAuditStream(ctx: StartContext, keys: KeyRing, metrics: GatewayMetrics): GatewayAuditStream {
  const { config, clock, logger, store } = ctx;
  const written = ctx.options.audit ? borrowed(ctx.options.audit) : openAuditLog({ path: config.audit.path, productVersion: PRODUCT_VERSION });
  // SPEC §13: a failed write refuses requests and retries; it never stops the process.
  const guarded = guardAuditLog(written, { clock, logger });
  // SPEC §13 "Anchors": signed chain heads in the audit stream and in the store, so a cut tail shows.
  const anchored = anchorAuditStream(guarded, {
    clock, logger, store: store.anchors, signingKey: () => keys.usableSigningKey(),
    head: () => (written.head ? written.head() : undefined),
  });
  ctx.onFailure(() => anchored.close());
  const worker = new DeliveryWorker({
    store: store.notifications, webhooks: config.notifications.webhooks, clock, logger, ...ctx.options.notifications,
    onOutcome: (outcome) => metrics.notificationDeliveries.inc({ outcome }),
    onError: () => metrics.notificationErrors.inc({ stage: 'deliver' }),
  });
  ctx.onFailure(() => worker.stop());
  // SPEC §18: every audit record passes the notifier, which enqueues webhook deliveries in the store.
  const notifier = new Notifier({
    store, webhooks: config.notifications.webhooks, clock, logger,
    // Before the control listener is bound (start-up recovery), its configured address stands in.
    consoleLink: () => consoleLink(config, ctx.urls.control || `http://${formatHost(config.listen.control.host)}:${config.listen.control.port}`),
    onEnqueued: () => worker.wake(),
    onError: () => metrics.notificationErrors.inc({ stage: 'enqueue' }),
  });
  ctx.onFailure(() => notifier.flush());
  return { audit: notifyingAudit(anchored, (record) => notifier.observe(record)), notifier, worker };
}

/** An injected log (tests) is written to but not closed by the gateway: its owner closes it. */
function borrowed(log: AuditLog): AuditLog {
  return { write: log.write.bind(log), close: () => {}, ...(log.head ? { head: log.head.bind(log) } : {}) };
}
