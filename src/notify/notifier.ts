// The enqueue side of notifications (SPEC §18). `observe` is called with every audit record after it was
// written; for the events a webhook subscribes to it writes one outbox row per webhook. It never delays or
// fails the caller (a data-plane call, a control action, a sweep): the work runs after the caller's turn, its
// failures are counted and logged. Once the rows are written they are durable; the worker delivers them.
import type { Logger } from 'pino';
import type { AuditEvent } from '../audit/types.js';
import type { WebhookConfig } from '../config/types.js';
import type { NewDelivery } from '../store/notification-types.js';
import type { Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import { newId } from '../util/ids.js';
import { RETRY_WINDOW_MS } from './backoff.js';
import type { ConsoleLink } from './console-link.js';
import { describeNotification, type NotificationDetails } from './describe.js';
import { notificationFacts, type NotificationFacts } from './events.js';
import { jsonPayload, slackPayload } from './payload.js';

export interface NotifierOptions {
  readonly store: Store;
  readonly webhooks: readonly WebhookConfig[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** Read at enqueue time: the control URL is known only once its listener is bound. */
  readonly consoleLink: () => ConsoleLink;
  /** Called after rows were written (the worker wakes up to deliver them at once). */
  readonly onEnqueued?: () => void;
  /** Called when an enqueue failed (metrics). */
  readonly onError?: (err: unknown) => void;
}

export class Notifier {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: NotifierOptions) {}

  /** Synchronous and never throws: the audit writer calls it on every record. */
  observe(record: AuditEvent): void {
    if (this.options.webhooks.length === 0) return;
    const facts = notificationFacts(record);
    if (facts === null) return;
    const hooks = this.options.webhooks.filter((hook) => hook.events.includes(facts.event));
    if (hooks.length === 0) return;
    const job = this.enqueue(facts, hooks).catch((err: unknown) => this.failed(err, facts));
    this.inFlight.add(job);
    void job.finally(() => this.inFlight.delete(job));
  }

  /** Resolves once every enqueue started so far has been written or has failed (before the store closes). */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async enqueue(facts: NotificationFacts, hooks: readonly WebhookConfig[]): Promise<void> {
    // After the caller's turn: the store reads below never sit between a call and its answer.
    await Promise.resolve();
    const details = await describeNotification(this.options.store, facts);
    const link = this.options.consoleLink();
    const createdAt = this.options.clock.now();
    const deliveries = hooks.map((hook): NewDelivery => {
      const deliveryId = newId('dlv');
      return {
        deliveryId,
        event: facts.event,
        url: hook.url,
        payload: JSON.stringify(format(hook, details, deliveryId, link)),
        createdAt,
        giveUpAt: createdAt + RETRY_WINDOW_MS,
      };
    });
    await this.options.store.notifications.enqueue(deliveries);
    this.options.onEnqueued?.();
  }

  private failed(err: unknown, facts: NotificationFacts): void {
    try {
      this.options.onError?.(err);
      this.options.logger.error({ err, event: facts.event, session_id: facts.sessionId }, 'notification could not be enqueued');
    } catch {
      // DESIGN rule 15: a failing observer must not turn into an unhandled rejection.
    }
  }
}

function format(hook: WebhookConfig, details: NotificationDetails, deliveryId: string, link: ConsoleLink): Record<string, unknown> {
  return hook.format === 'slack' ? slackPayload(details, deliveryId, link) : jsonPayload(details, deliveryId, link);
}
