// What startGateway takes and hands back: the running gateway as the CLI and the tests drive it.
import type { Logger } from 'pino';
import type { AuditLog } from './audit/types.js';
import type { GatewayConfig } from './config/types.js';
import type { GatewayMetrics } from './metrics/metrics.js';
import type { PolicyHolder } from './policy/holder.js';
import type { Store } from './store/types.js';
import type { Clock } from './util/clock.js';

/** The webhook outbox of a running gateway (SPEC §18). */
export interface GatewayNotifications {
  /** Waits until every notification enqueued so far is written, then runs a delivery round and waits for
   *  it: tests wait on this instead of sleeping. */
  deliverNow(): Promise<void>;
}

export interface RunningGateway {
  readonly dataUrl: string;
  readonly controlUrl: string;
  /** The console's public URL when the console is enabled, else null. */
  readonly consoleUrl: string | null;
  readonly store: Store;
  /** This process's id among the replicas sharing the store. */
  readonly replicaId: string;
  readonly policy: PolicyHolder;
  readonly metrics: GatewayMetrics;
  readonly notifications: GatewayNotifications;
  /** Re-reads the policy directory (SIGHUP); false when the new revision was refused. */
  reloadPolicy(): Promise<boolean>;
  /** Re-reads the signing key file and publishes it (SIGHUP); false when it was refused (last good kept). */
  reloadKeys(): Promise<boolean>;
  sweep(): Promise<number>;
  /** Readiness off at once, in-flight requests finish within graceMs, then everything closes. */
  close(graceMs?: number): Promise<void>;
}

export interface GatewayOptions {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** How often idle sessions are checked for lease expiry and max_age (default 1 s). */
  readonly sweepIntervalMs?: number;
  /** Watch the policy directory for changes (default true). */
  readonly watchPolicies?: boolean;
  /** How often sessions with live calls are re-read from the store (default 300 ms). */
  readonly liveRecheckMs?: number;
  /** An audit log to use instead of the configured one (tests). */
  readonly audit?: AuditLog;
  /** A store to use instead of the configured one, left open by close() (tests: two replicas sharing one). */
  readonly store?: Store;
  /** This process's replica id (default: a new random one per start). */
  readonly replicaId?: string;
  /** How often a console's live inbox re-reads the store (default 1 s). */
  readonly consolePollMs?: number;
  /** Webhook delivery worker settings (tests inject the jitter and shorten the attempt timeout). */
  readonly notifications?: { readonly random?: () => number; readonly intervalMs?: number; readonly timeoutMs?: number };
}
