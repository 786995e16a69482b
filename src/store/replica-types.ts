// The gateway processes sharing one store (SPEC §17). Each process registers under its own replica id,
// heartbeats while it runs and stops when it shuts down. A ledger entry records the replica that forwards
// it; only when that replica is gone (stopped, or its heartbeat older than the replica timeout) may its
// in-flight entries be marked unknown — never because another replica started.

export interface ReplicaRecord {
  readonly replicaId: string;
  readonly startedAt: number;
  readonly heartbeatAt: number;
  /** null while running. */
  readonly stoppedAt: number | null;
}

export interface ReplicaStore {
  /** Registers (or re-registers) a running replica. A backend that admits one process only (the SQLite
   *  file's one-writer lock) also stops every other registration here: their processes are gone. */
  register(replicaId: string, now: number): Promise<void>;
  /** Records that the replica is alive; a stopped replica stays stopped. */
  heartbeat(replicaId: string, now: number): Promise<void>;
  stop(replicaId: string, now: number): Promise<void>;
  /** Marks stopped every running replica whose heartbeat is at or before `staleAt`; returns them.
   *  Idempotent: every replica may run it. */
  expire(staleAt: number, now: number): Promise<ReplicaRecord[]>;
  list(): Promise<ReplicaRecord[]>;
}
