// What startGateway hands back: the running gateway as the CLI and the tests drive it.
import type { GatewayMetrics } from './metrics/metrics.js';
import type { PolicyHolder } from './policy/holder.js';
import type { Store } from './store/types.js';

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

