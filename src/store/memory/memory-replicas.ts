// The gateway processes of the in-process store (SPEC §17). One synchronous step per operation (see
// memory-sessions.ts); a memory store is only ever shared inside one process, by tests that simulate
// several replicas.
import type { StoreGuard } from '../guard.js';
import type { ReplicaRecord, ReplicaStore } from '../replica-types.js';

export class MemoryReplicas implements ReplicaStore {
  private readonly records = new Map<string, ReplicaRecord>();

  constructor(private readonly guard: StoreGuard) {}

  /** For the memory ledger's recovery, inside its own guarded step. */
  isRunning(replicaId: string): boolean {
    const record = this.records.get(replicaId);
    return record !== undefined && record.stoppedAt === null;
  }

  register(replicaId: string, now: number): Promise<void> {
    return this.guard(() => {
      this.records.set(replicaId, Object.freeze({ replicaId, startedAt: now, heartbeatAt: now, stoppedAt: null }));
    });
  }

  heartbeat(replicaId: string, now: number): Promise<void> {
    return this.guard(() => {
      const record = this.records.get(replicaId);
      if (record !== undefined && record.stoppedAt === null) this.records.set(replicaId, Object.freeze({ ...record, heartbeatAt: now }));
    });
  }

  stop(replicaId: string, now: number): Promise<void> {
    return this.guard(() => {
      const record = this.records.get(replicaId);
      if (record !== undefined && record.stoppedAt === null) this.records.set(replicaId, Object.freeze({ ...record, stoppedAt: now }));
    });
  }

  expire(staleAt: number, now: number): Promise<ReplicaRecord[]> {
    return this.guard(() => {
      const expired: ReplicaRecord[] = [];
      for (const record of this.records.values()) {
        if (record.stoppedAt !== null || record.heartbeatAt > staleAt) continue;
        const stopped = Object.freeze({ ...record, stoppedAt: now });
        this.records.set(record.replicaId, stopped);
        expired.push(stopped);
      }
      return expired;
    });
  }

  list(): Promise<ReplicaRecord[]> {
    return this.guard(() => [...this.records.values()].sort((a, b) => a.startedAt - b.startedAt));
  }
}
