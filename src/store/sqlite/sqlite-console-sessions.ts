// Console sign-in sessions in SQLite. Statements are prepared once when the store opens (sqlite-prepare.ts);
// touch is one conditional UPDATE … RETURNING, so a lapsed session cannot be renewed by any connection.
import type Database from 'better-sqlite3';
import type { ConsoleSessionRecord, ConsoleSessionStore, NewConsoleSession } from '../console-session-types.js';
import type { StoreGuard } from '../guard.js';
import { prepareStatements, sql, type Statements } from './sqlite-prepare.js';

interface ConsoleSessionRow {
  id_hash: string;
  person_id: string;
  credential_tag: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

const toRecord = (row: ConsoleSessionRow): ConsoleSessionRecord => ({
  idHash: row.id_hash,
  personId: row.person_id,
  credentialTag: row.credential_tag,
  createdAt: row.created_at,
  lastSeenAt: row.last_seen_at,
  expiresAt: row.expires_at,
});

const Q = {
  insert: sql<[NewConsoleSession]>(
    `INSERT INTO console_sessions (id_hash, person_id, credential_tag, created_at, last_seen_at, expires_at)
     VALUES (@idHash, @personId, @credentialTag, @createdAt, @createdAt, @expiresAt)`,
  ),
  update: sql<[{ idHash: string; now: number; expiresAt: number }], ConsoleSessionRow>(
    `UPDATE console_sessions SET last_seen_at = @now, expires_at = @expiresAt
     WHERE id_hash = @idHash AND expires_at > @now
     RETURNING id_hash, person_id, credential_tag, created_at, last_seen_at, expires_at`,
  ),
  select: sql<[string, number], ConsoleSessionRow>(
    `SELECT id_hash, person_id, credential_tag, created_at, last_seen_at, expires_at FROM console_sessions
     WHERE id_hash = ? AND expires_at > ?`,
  ),
  remove: sql<[string]>('DELETE FROM console_sessions WHERE id_hash = ?'),
  purge: sql<[number]>('DELETE FROM console_sessions WHERE expires_at <= ?'),
} as const;

export class SqliteConsoleSessions implements ConsoleSessionStore {
  private readonly sql: Statements<typeof Q>;

  constructor(db: Database.Database, private readonly guard: StoreGuard) {
    this.sql = prepareStatements(db, Q);
  }

  create(session: NewConsoleSession): Promise<void> {
    return this.guard(() => {
      this.sql.insert.run(session);
    });
  }

  touch(idHash: string, now: number, expiresAt: number): Promise<ConsoleSessionRecord | null> {
    return this.guard(() => {
      const row = this.sql.update.get({ idHash, now, expiresAt });
      return row === undefined ? null : toRecord(row);
    });
  }

  find(idHash: string, now: number): Promise<ConsoleSessionRecord | null> {
    return this.guard(() => {
      const row = this.sql.select.get(idHash, now);
      return row === undefined ? null : toRecord(row);
    });
  }

  delete(idHash: string): Promise<boolean> {
    return this.guard(() => this.sql.remove.run(idHash).changes > 0);
  }

  purgeExpired(now: number): Promise<number> {
    return this.guard(() => this.sql.purge.run(now).changes);
  }
}
