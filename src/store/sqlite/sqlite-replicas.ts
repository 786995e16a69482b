// The gateway processes of a SQLite store (SPEC §17). A SQLite file admits one gateway process at a time
// (the one-writer lock, sqlite-lock.ts), so when a process registers, every other registration belongs to
// a process that is gone: register() stops them in the same transaction, and the in-flight ledger entries
// they left become recoverable at once. Statements are prepared once, when the store opens (sqlite-prepare.ts).
import type Database from 'better-sqlite3';
import type { StoreGuard } from '../guard.js';
import type { ReplicaRecord, ReplicaStore } from '../replica-types.js';
import { prepareStatements, sql, type Statements } from './sqlite-prepare.js';

const COLUMNS = 'replica_id AS replicaId, started_at AS startedAt, heartbeat_at AS heartbeatAt, stopped_at AS stoppedAt';

const Q = {
  stopOthers: sql<[number, string]>('UPDATE replicas SET stopped_at = ? WHERE stopped_at IS NULL AND replica_id <> ?'),
  upsert: sql<[string, number, number]>(
    `INSERT INTO replicas (replica_id, started_at, heartbeat_at) VALUES (?, ?, ?)
     ON CONFLICT (replica_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, stopped_at = NULL`,
  ),
  heartbeat: sql<[number, string]>('UPDATE replicas SET heartbeat_at = ? WHERE replica_id = ? AND stopped_at IS NULL'),
  stop: sql<[number, string]>('UPDATE replicas SET stopped_at = ? WHERE replica_id = ? AND stopped_at IS NULL'),
  expire: sql<[number, number], ReplicaRecord>(
    `UPDATE replicas SET stopped_at = ? WHERE stopped_at IS NULL AND heartbeat_at <= ? RETURNING ${COLUMNS}`,
  ),
  list: sql<[], ReplicaRecord>(`SELECT ${COLUMNS} FROM replicas ORDER BY started_at, replica_id`),
} as const;

export class SqliteReplicas implements ReplicaStore {
  private readonly sql: Statements<typeof Q>;
  private readonly registerTx: Database.Transaction<(replicaId: string, now: number) => void>;

  constructor(db: Database.Database, private readonly guard: StoreGuard) {
    const q = prepareStatements(db, Q);
    this.sql = q;
    this.registerTx = db.transaction((replicaId: string, now: number) => {
      q.stopOthers.run(now, replicaId);
      q.upsert.run(replicaId, now, now);
    });
  }

  register(replicaId: string, now: number): Promise<void> {
    return this.guard(() => this.registerTx.immediate(replicaId, now));
  }

  heartbeat(replicaId: string, now: number): Promise<void> {
    return this.guard(() => {
      this.sql.heartbeat.run(now, replicaId);
    });
  }

  stop(replicaId: string, now: number): Promise<void> {
    return this.guard(() => {
      this.sql.stop.run(now, replicaId);
    });
  }

  expire(staleAt: number, now: number): Promise<ReplicaRecord[]> {
    return this.guard(() => this.sql.expire.all(now, staleAt));
  }

  list(): Promise<ReplicaRecord[]> {
    return this.guard(() => this.sql.list.all());
  }
}
