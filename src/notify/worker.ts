// The delivery worker (SPEC §18): one per process. Each round claims due deliveries with a lease (so other
// processes on the same database leave them alone), POSTs them signed, and settles each as delivered,
// pending again (backoff) or failed (after 24 h). Rounds run on a timer and when new rows were enqueued.
// DESIGN rule 15: a round owns its errors; nothing here can throw into the process.
import type { Logger } from 'pino';
import type { Agent } from 'undici';
import type { WebhookConfig } from '../config/types.js';
import type { DeliveryRecord, NotificationStore } from '../store/notification-types.js';
import type { Clock } from '../util/clock.js';
import { newId } from '../util/ids.js';
import { afterFailure } from './backoff.js';
import { postWebhook, webhookAgent, type SendResult } from './send.js';
import { signatureHeader } from './signature.js';

export type DeliveryOutcomeKind = 'delivered' | 'retry' | 'failed';

export interface WorkerOptions {
  readonly store: NotificationStore;
  readonly webhooks: readonly WebhookConfig[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** In [0, 1): the backoff jitter (tests inject it). */
  readonly random?: () => number;
  /** How often due deliveries are looked for (default 1 s). */
  readonly intervalMs?: number;
  /** One attempt: connect, headers and body (default 10 s). */
  readonly timeoutMs?: number;
  /** Deliveries claimed per round (default 16). */
  readonly batch?: number;
  /** Delivered and failed rows are purged this long after they settled (default 7 days). */
  readonly retentionMs?: number;
  readonly onOutcome?: (outcome: DeliveryOutcomeKind) => void;
  readonly onError?: (err: unknown) => void;
}

const PURGE_EVERY_MS = 3_600_000;
const PURGE_LIMIT = 1_000;

export class DeliveryWorker {
  private readonly byUrl: ReadonlyMap<string, WebhookConfig>;
  private readonly agent: Agent;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private again = false;
  private nextPurge = 0;
  private started = false;

  constructor(private readonly options: WorkerOptions) {
    this.byUrl = new Map(options.webhooks.map((hook) => [hook.url, hook]));
    this.agent = webhookAgent(this.timeoutMs);
  }

  start(): void {
    if (this.started || this.stopping.signal.aborted) return;
    this.started = true;
    // Without webhooks there is nothing to deliver: one round settles what an earlier configuration left
    // (as failed), and no timer writes to the store every second for nothing.
    if (this.options.webhooks.length > 0) {
      this.timer = setInterval(() => this.wake(), this.options.intervalMs ?? 1_000);
      this.timer.unref();
    }
    this.wake();
  }

  /** Runs a round soon; if one is running, another follows it (rows enqueued meanwhile are not missed). */
  wake(): void {
    // Before start (start-up recovery enqueueing) the rows wait for the first round.
    if (!this.started || this.stopping.signal.aborted) return;
    if (this.round !== undefined) {
      this.again = true;
      return;
    }
    this.round = this.loop().finally(() => (this.round = undefined));
  }

  /** Resolves when the current round (if any) is over: tests wait on it instead of sleeping. */
  async idle(): Promise<void> {
    while (this.round !== undefined) await this.round;
  }

  /** Aborts attempts in flight (they settle as retries), waits for the round, closes the connections. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort(new Error('gateway stopping'));
    await this.idle();
    await this.agent.destroy().catch(() => undefined);
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 10_000;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.runRound();
      } catch (err) {
        this.report(err, 'notification delivery round failed');
      }
    } while (this.again && !this.stopping.signal.aborted);
  }

  private async runRound(): Promise<void> {
    const now = this.options.clock.now();
    if (now >= this.nextPurge) {
      this.nextPurge = now + PURGE_EVERY_MS;
      await this.options.store.purge(now - (this.options.retentionMs ?? 7 * 86_400_000), PURGE_LIMIT);
    }
    const claim = newId('clm', 12);
    // The lease outlasts one attempt (bounded by the timeout) by a margin for the settle write, so another
    // claim never overtakes a live attempt; a process killed mid-attempt holds its deliveries no longer.
    const leaseMs = this.timeoutMs + 5_000;
    const due = await this.options.store.claimDue({ claim, now, leaseMs, limit: this.options.batch ?? 16 });
    await Promise.all(due.map((delivery) => this.attempt(delivery, claim).catch((err: unknown) => this.report(err, 'notification attempt failed'))));
    // A full batch means more may be due now.
    if (due.length === (this.options.batch ?? 16)) this.again = true;
  }

  private async attempt(delivery: DeliveryRecord, claim: string): Promise<void> {
    const hook = this.byUrl.get(delivery.url);
    const result: SendResult = hook === undefined ? { status: null, error: 'webhook_not_configured' } : await this.send(hook, delivery);
    const now = this.options.clock.now();
    if (result.status !== null && result.status >= 200 && result.status < 300) {
      await this.settle(delivery, claim, { kind: 'delivered', status: result.status, now });
      return;
    }
    const error = result.error ?? `http_${result.status}`;
    // A webhook removed from the config has no secret to sign with any more: nothing to retry.
    const next = hook === undefined ? ({ kind: 'failed' } as const) : afterFailure(delivery, now, this.options.random ?? Math.random);
    const outcome = next.kind === 'retry'
      ? { kind: 'retry' as const, status: result.status, error, nextAttemptAt: next.nextAttemptAt, now }
      : { kind: 'failed' as const, status: result.status, error, now };
    await this.settle(delivery, claim, outcome);
  }

  private send(hook: WebhookConfig, delivery: DeliveryRecord): Promise<SendResult> {
    const t = Math.floor(this.options.clock.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'epochgate-webhook',
      'x-epochgate-event': delivery.event,
      'x-epochgate-delivery': delivery.deliveryId,
      'x-epochgate-signature': signatureHeader(hook.secret, delivery.payload, t),
    };
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.timeoutMs)]);
    return postWebhook(this.agent, delivery.url, headers, delivery.payload, signal);
  }

  private async settle(delivery: DeliveryRecord, claim: string, outcome: Parameters<NotificationStore['settle']>[2]): Promise<void> {
    const settled = await this.options.store.settle(delivery.deliveryId, claim, outcome);
    // Not settled: the lease ran out and another claim owns the delivery now; it counts its own outcome.
    if (!settled) return;
    this.options.onOutcome?.(outcome.kind);
    if (outcome.kind === 'failed') {
      this.options.logger.warn({ delivery_id: delivery.deliveryId, event: delivery.event, error: outcome.error, attempts: delivery.attempts }, 'notification delivery gave up');
    }
  }

  private report(err: unknown, message: string): void {
    try {
      this.options.onError?.(err);
      this.options.logger.error({ err }, message);
    } catch {
      // A failing observer must not escape the worker.
    }
  }
}
