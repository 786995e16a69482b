// Console sign-in sessions on PostgreSQL. Every operation is one statement; touch is a conditional
// UPDATE … RETURNING, so a lapsed session cannot be renewed by a late request on any replica.
import type { ConsoleSessionRecord, ConsoleSessionStore, NewConsoleSession } from '../console-session-types.js';
import { sql, type PgDb } from './pg-db.js';

const COLUMNS = `id_hash AS "idHash", person_id AS "personId", credential_tag AS "credentialTag", created_at AS "createdAt",
  last_seen_at AS "lastSeenAt", expires_at AS "expiresAt"`;

const Q = {
  insert: sql(
    'console_insert',
    `INSERT INTO console_sessions (id_hash, person_id, credential_tag, created_at, last_seen_at, expires_at)
     VALUES ($1, $2, $3, $4, $4, $5)`,
  ),
  touch: sql(
    'console_touch',
    `UPDATE console_sessions SET last_seen_at = $2, expires_at = $3 WHERE id_hash = $1 AND expires_at > $2 RETURNING ${COLUMNS}`,
  ),
  find: sql('console_find', `SELECT ${COLUMNS} FROM console_sessions WHERE id_hash = $1 AND expires_at > $2`),
  delete: sql('console_delete', 'DELETE FROM console_sessions WHERE id_hash = $1'),
  purge: sql('console_purge', 'DELETE FROM console_sessions WHERE expires_at <= $1'),
} as const;

export class PgConsoleSessions implements ConsoleSessionStore {
  constructor(private readonly db: PgDb) {}

  async create(s: NewConsoleSession): Promise<void> {
    await this.db.run(Q.insert, [s.idHash, s.personId, s.credentialTag, s.createdAt, s.expiresAt]);
  }

  async touch(idHash: string, now: number, expiresAt: number): Promise<ConsoleSessionRecord | null> {
    return (await this.db.one<ConsoleSessionRecord>(Q.touch, [idHash, now, expiresAt])) ?? null;
  }

  async find(idHash: string, now: number): Promise<ConsoleSessionRecord | null> {
    return (await this.db.one<ConsoleSessionRecord>(Q.find, [idHash, now])) ?? null;
  }

  async delete(idHash: string): Promise<boolean> {
    return (await this.db.run(Q.delete, [idHash])) > 0;
  }

  purgeExpired(now: number): Promise<number> {
    return this.db.run(Q.purge, [now]);
  }
}
