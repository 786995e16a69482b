// The gateway processes of a SQLite store (SPEC §17). A SQLite file admits one gateway process at a time
// (the one-writer lock, sqlite-lock.ts), so when a process registers, every other registration belongs to
// a process that is gone: register() stops them in the same transaction, and the in-flight ledger entries
// they left become recoverable at once. Statements are prepared once (DESIGN rule 3).
import type Database from 'better-sqlite3';
import type { StoreGuard } from '../guard.js';
import type { ReplicaRecord, ReplicaStore } from '../replica-types.js';

const COLUMNS = 'replica_id AS replicaId, started_at AS startedAt, heartbeat_at AS heartbeatAt, stopped_at AS stoppedAt';

export class SqliteReplicas implements ReplicaStore {
  private readonly registerTx: Database.Transaction<(replicaId: string, now: number) => void>;
  private readonly heartbeatStatement: Database.Statement<[number, string]>;
  private readonly stopStatement: Database.Statement<[number, string]>;
  private readonly expireStatement: Database.Statement<[number, number], ReplicaRecord>;
  private readonly listStatement: Database.Statement<[], ReplicaRecord>;

  constructor(db: Database.Database, private readonly guard: StoreGuard) {
    const stopOthers = db.prepare<[number, string]>('UPDATE replicas SET stopped_at = ? WHERE stopped_at IS NULL AND replica_id <> ?');
    const upsert = db.prepare<[string, number, number]>(
      `INSERT INTO replicas (replica_id, started_at, heartbeat_at) VALUES (?, ?, ?)
       ON CONFLICT (replica_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, stopped_at = NULL`,
    );
    this.registerTx = db.transaction((replicaId: string, now: number) => {
      stopOthers.run(now, replicaId);
      upsert.run(replicaId, now, now);
    });
    this.heartbeatStatement = db.prepare('UPDATE replicas SET heartbeat_at = ? WHERE replica_id = ? AND stopped_at IS NULL');
    this.stopStatement = db.prepare('UPDATE replicas SET stopped_at = ? WHERE replica_id = ? AND stopped_at IS NULL');
    this.expireStatement = db.prepare<[number, number], ReplicaRecord>(
      `UPDATE replicas SET stopped_at = ? WHERE stopped_at IS NULL AND heartbeat_at <= ? RETURNING ${COLUMNS}`,
    );
    this.listStatement = db.prepare<[], ReplicaRecord>(`SELECT ${COLUMNS} FROM replicas ORDER BY started_at, replica_id`);
  }

  register(replicaId: string, now: number): Promise<void> {
    return this.guard(() => this.registerTx.immediate(replicaId, now));
  }

  heartbeat(replicaId: string, now: number): Promise<void> {
    return this.guard(() => {
      this.heartbeatStatement.run(now, replicaId);
    });
  }

  stop(replicaId: string, now: number): Promise<void> {
    return this.guard(() => {
      this.stopStatement.run(now, replicaId);
    });
  }

  expire(staleAt: number, now: number): Promise<ReplicaRecord[]> {
    return this.guard(() => this.expireStatement.all(now, staleAt));
  }

  list(): Promise<ReplicaRecord[]> {
    return this.guard(() => this.listStatement.all());
  }
}
