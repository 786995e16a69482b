// The replicas table (SPEC §17): each gateway process registers itself and heartbeats; a replica whose
// heartbeat is too old is marked stopped by whichever replica sweeps first (idempotent: the condition is
// in the UPDATE). Ledger recovery only touches in-flight entries of stopped replicas.
import type { ReplicaRecord, ReplicaStore } from '../replica-types.js';
import { sql, type PgDb } from './pg-db.js';

interface ReplicaRow {
  replica_id: string;
  started_at: number;
  heartbeat_at: number;
  stopped_at: number | null;
}

const Q = {
  register: sql(
    'replica_register',
    `INSERT INTO replicas (replica_id, started_at, heartbeat_at, stopped_at) VALUES ($1, $2, $2, NULL)
     ON CONFLICT (replica_id) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, stopped_at = NULL`,
  ),
  heartbeat: sql('replica_heartbeat', 'UPDATE replicas SET heartbeat_at = $2 WHERE replica_id = $1 AND stopped_at IS NULL'),
  stop: sql('replica_stop', 'UPDATE replicas SET stopped_at = $2 WHERE replica_id = $1 AND stopped_at IS NULL'),
  expire: sql(
    'replica_expire',
    'UPDATE replicas SET stopped_at = $2 WHERE stopped_at IS NULL AND heartbeat_at <= $1 RETURNING *',
  ),
  list: sql('replica_list', 'SELECT * FROM replicas ORDER BY started_at, replica_id'),
} as const;

export class PgReplicas implements ReplicaStore {
  constructor(private readonly db: PgDb) {}

  async register(replicaId: string, now: number): Promise<void> {
    await this.db.run(Q.register, [replicaId, now]);
  }

  async heartbeat(replicaId: string, now: number): Promise<void> {
    await this.db.run(Q.heartbeat, [replicaId, now]);
  }

  async stop(replicaId: string, now: number): Promise<void> {
    await this.db.run(Q.stop, [replicaId, now]);
  }

  async expire(staleAt: number, now: number): Promise<ReplicaRecord[]> {
    return (await this.db.rows<ReplicaRow>(Q.expire, [staleAt, now])).map(toReplica);
  }

  async list(): Promise<ReplicaRecord[]> {
    return (await this.db.rows<ReplicaRow>(Q.list, [])).map(toReplica);
  }
}

function toReplica(row: ReplicaRow): ReplicaRecord {
  return Object.freeze({ replicaId: row.replica_id, startedAt: row.started_at, heartbeatAt: row.heartbeat_at, stoppedAt: row.stopped_at });
}
