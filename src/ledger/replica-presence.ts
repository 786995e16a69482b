// This process among the replicas sharing a store (SPEC §10, §17): it registers at start, heartbeats,
// marks itself stopped on a graceful shutdown, and sweeps: replicas silent for longer than the timeout are
// marked stopped, then the in-flight ledger entries of stopped replicas become unknown (audited
// ledger.unknown, reason gateway_restart). Never because another replica started: only a stopped
// replica's entries are touched. Every step is one conditional store write, so sweeps on every replica at
// once are idempotent (the first to get there records each change; the others find nothing to do).
import { SYSTEM_ACTOR } from '../audit/envelope.js';
import type { AuditLog } from '../audit/types.js';
import type { LedgerStore } from '../store/ledger-types.js';
import type { ReplicaStore } from '../store/replica-types.js';
import type { Clock } from '../util/clock.js';
import { ledgerUnknownEvent } from './ledger-events.js';

/** SPEC §17: an entry's replica is gone once its heartbeat is older than this. */
export const DEFAULT_REPLICA_TIMEOUT_MS = 30_000;
/** Heartbeats come at least this often, and at least three times per timeout. */
const MAX_HEARTBEAT_MS = 5_000;

export interface ReplicaPresenceDeps {
  readonly replicas: ReplicaStore;
  readonly ledger: Pick<LedgerStore, 'recoverInFlight'>;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly replicaId: string;
  readonly timeoutMs: number;
  /**
   * The store belongs to this process alone (SQLite under its one-writer lock, memory): every replica
   * registered before this one is a previous process, gone whatever its last heartbeat says, so its
   * in-flight entries are unknown at once (SPEC §10 "on start").
   */
  readonly exclusive: boolean;
}

export class ReplicaPresence {
  /** clock.now() of the last heartbeat the store acknowledged. */
  private lastBeat = 0;

  constructor(private readonly deps: ReplicaPresenceDeps) {}

  get heartbeatMs(): number {
    return Math.max(1, Math.min(MAX_HEARTBEAT_MS, Math.floor(this.deps.timeoutMs / 3)));
  }

  /** Before any listener opens: register, then recover what stopped replicas left in flight. */
  async start(): Promise<number> {
    const { replicas, clock, replicaId } = this.deps;
    if (this.deps.exclusive) await replicas.expire(clock.now(), clock.now());
    const now = clock.now();
    await replicas.register(replicaId, now);
    this.lastBeat = now;
    return this.sweep();
  }

  /**
   * One heartbeat. After a silence long enough for another replica to have marked this one stopped (a
   * database outage, a stalled process), it registers again instead: a stopped replica's heartbeat changes
   * nothing, and its new in-flight entries would be taken for a dead replica's.
   */
  async heartbeat(): Promise<void> {
    const { replicas, clock, replicaId, timeoutMs } = this.deps;
    const now = clock.now();
    if (now - this.lastBeat >= timeoutMs - this.heartbeatMs) await replicas.register(replicaId, now);
    else await replicas.heartbeat(replicaId, now);
    this.lastBeat = now;
  }

  /** Marks silent replicas stopped, then their in-flight entries unknown; returns how many entries. */
  async sweep(): Promise<number> {
    const { replicas, ledger, audit, clock, timeoutMs } = this.deps;
    const now = clock.now();
    await replicas.expire(now - timeoutMs, now);
    const recovered = await ledger.recoverInFlight(now);
    for (const entry of recovered) {
      audit.write(ledgerUnknownEvent(entry, 'gateway_restart', { time: now, actor: SYSTEM_ACTOR }));
    }
    return recovered.length;
  }

  /** Graceful shutdown, after the last call settled: nobody needs to wait for this replica's timeout. */
  async stop(): Promise<void> {
    await this.deps.replicas.stop(this.deps.replicaId, this.deps.clock.now());
  }
}
