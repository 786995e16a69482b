// TEMPORARY until the store seam lands on main (replaced by main's file at the merge).
export interface ReplicaRecord { readonly replicaId: string; readonly startedAt: number; readonly heartbeatAt: number; readonly stoppedAt: number | null; }
export interface ReplicaStore {
  register(replicaId: string, now: number): Promise<void>;
  heartbeat(replicaId: string, now: number): Promise<void>;
  stop(replicaId: string, now: number): Promise<void>;
  expire(staleAt: number, now: number): Promise<ReplicaRecord[]>;
  list(): Promise<ReplicaRecord[]>;
}
