// This process as one replica among those sharing the store (SPEC §17): registered at start, heartbeats
// while it runs, stopped at shutdown. Every replica's sweep also expires replicas whose heartbeat is older
// than the replica timeout and recovers the in-flight ledger entries of every stopped replica (SPEC §10:
// their outcome is unknown, each audited as ledger.unknown). Sweeps are idempotent, so every replica may
// run them; an entry of a running replica is never touched, so another replica starting changes nothing.
import type { Store } from '../store/types.js';
import type { AuditLog } from '../audit/types.js';
import type { Clock } from '../util/clock.js';
import { recoverLedger } from './recovery.js';

/** SPEC §17: a replica whose heartbeat is older than this is gone. */
export const REPLICA_TIMEOUT_MS = 30_000;
/** Well inside the timeout, so a busy event loop or one failed write does not make a live replica look gone:
 *  every 5 s, or every third of a shorter timeout (store.replica_timeout_ms). */
export const HEARTBEAT_INTERVAL_MS = 5_000;

export interface ReplicaPresenceOptions {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly replicaId: string;
  readonly timeoutMs?: number;
}

export class ReplicaPresence {
  private lastHeartbeat = 0;

  constructor(private readonly options: ReplicaPresenceOptions) {}

  get replicaId(): string {
    return this.options.replicaId;
  }

  get heartbeatMs(): number {
    return Math.max(1, Math.min(HEARTBEAT_INTERVAL_MS, Math.floor(this.timeoutMs / 3)));
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? REPLICA_TIMEOUT_MS;
  }

  /** Registers this replica, then recovers what stopped replicas left in flight; before any listener opens. */
  async start(): Promise<number> {
    const now = this.options.clock.now();
    await this.options.store.replicas.register(this.options.replicaId, now);
    this.lastHeartbeat = now;
    return this.recover(now);
  }

  /** One sweep: heartbeat when due, expire silent replicas, recover their entries. Returns entries recovered. */
  async sweep(): Promise<number> {
    const { store, clock, replicaId } = this.options;
    const now = clock.now();
    const silentFor = now - this.lastHeartbeat;
    if (silentFor >= this.timeoutMs - this.heartbeatMs) {
      // Silent long enough (a database outage, a stalled process) for another replica to have marked this one
      // stopped, and a stopped replica's heartbeat changes nothing: register again, or the entries it forwards
      // from now on would be taken for a dead replica's.
      await store.replicas.register(replicaId, now);
      this.lastHeartbeat = now;
    } else if (silentFor >= this.heartbeatMs) {
      await store.replicas.heartbeat(replicaId, now);
      this.lastHeartbeat = now;
    }
    return this.recover(now);
  }

  stop(): Promise<void> {
    return this.options.store.replicas.stop(this.options.replicaId, this.options.clock.now());
  }

  private async recover(now: number): Promise<number> {
    const { store, audit, clock } = this.options;
    await store.replicas.expire(now - this.timeoutMs, now);
    return recoverLedger(store, audit, clock);
  }
}
