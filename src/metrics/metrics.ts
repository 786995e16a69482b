// Prometheus series of SPEC §14. Labels never carry session or agent ids (unbounded cardinality, and
// they would leak identities to whoever can scrape).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SessionState, Store } from '../store/types.js';
import { SESSION_STATES } from '../store/types.js';
import { APPROVAL_STATES } from '../store/approval-types.js';
import { DELIVERY_STATES } from '../store/notification-types.js';

/** One (tool, code) series of epochgate_requests_total, counted in process and handed over at scrape. */
interface RequestCell {
  readonly labels: { readonly tool: string; readonly code: string };
  count: number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  /** tool → code → cell. Bounded: tools come from the config, codes from the error catalogue. */
  private readonly requestCells = new Map<string, Map<string, RequestCell>>();
  /** Rebuilt from the cells at each scrape: count with countRequest(), never requests.inc() (it would be
   *  overwritten at the next scrape). */
  readonly requests = requestsCounter(this.registry, this.requestCells);
  readonly requestDuration = new Histogram({
    name: 'epochgate_request_duration_seconds',
    help: 'Data-plane request duration, gateway receipt to response end',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly upstreamDuration = new Histogram({
    name: 'epochgate_upstream_duration_seconds',
    help: 'Time from forwarding to the upstream response headers',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly resumes = new Counter({
    name: 'epochgate_resumes_total',
    help: 'Successful session resumes',
    registers: [this.registry],
  });
  readonly policyReloads = new Counter({
    name: 'epochgate_policy_reloads_total',
    help: 'Policy reloads by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'epochgate_store_errors_total',
    help: 'Store operations that failed (the gateway failed closed)',
    registers: [this.registry],
  });

  /** DESIGN rule 15: a request answered internal_error, or an error that reached the last-resort process
   *  handlers. Hostile input must never move it (the adversarial suite checks it stays 0). */
  readonly internalErrors = new Counter({
    name: 'epochgate_internal_errors_total',
    help: 'Requests answered internal_error and errors caught by the last-resort process handlers',
    registers: [this.registry],
  });

  /** SPEC §18: webhook delivery attempts by outcome (delivered, retry, failed = gave up after 24 h). */
  readonly notificationDeliveries = new Counter({
    name: 'epochgate_notification_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, retry, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  /** Notifications that could not be enqueued, and delivery rounds that failed (store errors). */
  readonly notificationErrors = new Counter({
    name: 'epochgate_notification_errors_total',
    help: 'Notification failures by stage (enqueue, deliver)',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });

  /** Counts one data-plane request. prom-client hashes the label set on every inc() (children made with
   *  labels() too), so the hot path bumps a cached cell and the counter reads the cells at scrape time. */
  countRequest(tool: string, code: string): void {
    let byCode = this.requestCells.get(tool);
    if (byCode === undefined) this.requestCells.set(tool, (byCode = new Map()));
    const cell = byCode.get(code);
    if (cell === undefined) byCode.set(code, { labels: { tool, code }, count: 1 });
    else cell.count++;
  }

  constructor(store: Store) {
    // The gauges are registered for their scrape-time collect; nothing else needs to hold them.
    new Gauge({
      name: 'epochgate_sessions',
      help: 'Sessions by state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      // Read at scrape time from the store, so every replica reports the shared truth.
      async collect() {
        const counts: Record<SessionState, number> = await store.sessions.countByState();
        for (const state of SESSION_STATES) this.set({ state }, counts[state]);
      },
    });
    new Gauge({
      name: 'epochgate_approvals',
      help: 'Approvals by state (SPEC §14)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await store.approvals.countByState();
        for (const state of APPROVAL_STATES) this.set({ state }, counts[state]);
      },
    });
    new Gauge({
      name: 'epochgate_notifications',
      help: 'Webhook deliveries in the outbox by state (pending = not yet delivered)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await store.notifications.countByState();
        for (const state of DELIVERY_STATES) this.set({ state }, counts[state]);
      },
    });
  }
}

function requestsCounter(registry: Registry, cells: ReadonlyMap<string, ReadonlyMap<string, RequestCell>>): Counter<'tool' | 'code'> {
  return new Counter({
    name: 'epochgate_requests_total',
    help: 'Data-plane requests by tool and outcome code',
    labelNames: ['tool', 'code'] as const,
    registers: [registry],
    // Rebuilt from the cells at each scrape: the cells hold the running totals.
    collect() {
      this.reset();
      for (const byCode of cells.values()) for (const cell of byCode.values()) this.inc(cell.labels, cell.count);
    },
  });
}
