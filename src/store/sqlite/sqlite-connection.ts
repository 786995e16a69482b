// Opening the database file. SPEC §14: a missing database is created; an unreadable or corrupt one is a
// start-up error and is never replaced, because a fresh file would restart every epoch at 1 and let
// tokens fenced off before the restart verify again.
import { accessSync, closeSync, constants, linkSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { headerProblem } from './sqlite-header.js';
import { checkSchema, migrate } from './migrations.js';

/** How long a connection waits for another connection's write lock before failing (store_unavailable). */
export const BUSY_TIMEOUT_MS = 5000;

export type SqliteSynchronous = 'full' | 'normal';

/** Opens, checks and migrates the file at `path`; throws an Error naming the path when it cannot. */
export function openSqliteDatabase(path: string, synchronous: SqliteSynchronous): Database.Database {
  const inMemory = path === ':memory:';
  if (!inMemory) checkFile(path);
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (err) {
    throw openError(path, err);
  }
  try {
    // Set before anything takes a lock, so start-up waits for (rather than fails on) a busy peer.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Read-only checks before anything writes (the WAL switch rewrites the header), so a damaged file is
    // left byte-for-byte as we found it. A file of garbage fails on this first read (SQLITE_NOTADB);
    // quick_check reads every page but skips index cross-checks: cheap enough for start-up.
    const problems = db.pragma('quick_check', { simple: false }) as Array<{ quick_check: string }>;
    if (problems.length !== 1 || problems[0]?.quick_check !== 'ok') {
      throw new Error(`integrity check failed: ${problems.map((p) => p.quick_check).slice(0, 3).join('; ')}`);
    }
    const mode = String(db.pragma('journal_mode = WAL', { simple: true }));
    if (!inMemory && mode !== 'wal') throw new Error(`cannot switch to WAL journal mode (got ${mode})`);
    // SPEC §14: fencing writes are durable unless the operator chose otherwise.
    db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
    migrate(db, path);
    checkSchema(db, path);
    return db;
  } catch (err) {
    db.close();
    throw openError(path, err);
  }
}

function checkFile(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw openError(path, err, 'cannot create its directory');
  }
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw openError(path, err, 'cannot be inspected');
    createPrivateFile(path);
    return;
  }
  if (!isFile) throw new Error(`SQLite store ${path}: not a regular file`);
  try {
    // SQLite would silently fall back to read-only; every write would then fail at request time instead.
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw openError(path, err, 'is not readable and writable by this process');
  }
  // Mid-checkpoint after a kill -9 the file may be shorter than its header says while the WAL still holds
  // the pages: then SQLite's own recovery and quick_check judge it, not our length check.
  const problem = headerProblem(path, walHasFrames(path));
  if (problem) {
    throw new Error(
      `SQLite store ${path} cannot be used: ${problem}; the file is corrupt, truncated or not an epochgate database. ` +
        'It was left untouched: restore it from a backup or point store.path elsewhere',
    );
  }
}

function walHasFrames(path: string): boolean {
  try {
    return statSync(`${path}-wal`).size > 0;
  } catch {
    return false;
  }
}

/**
 * A missing database is built complete under a temporary name and then linked into place, so a crash
 * while creating it never leaves a zero-length or half-made file at `path` (which the next start would
 * rightly refuse). link() fails if `path` appeared meanwhile: an existing database is never replaced.
 * Owner-only (0600): it holds session metadata and approval body previews, like the key file; SQLite
 * gives its -wal and -shm files the database file's permissions.
 */
function createPrivateFile(path: string): void {
  const tmp = `${path}.new-${process.pid}`;
  try {
    closeSync(openSync(tmp, 'w', 0o600));
    const db = new Database(tmp);
    try {
      db.pragma('journal_mode = WAL');
      migrate(db, tmp);
    } finally {
      db.close();
    }
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw openError(path, err, 'cannot be created');
  } finally {
    for (const file of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(file, { force: true });
  }
}

function openError(path: string, err: unknown, what?: string): Error {
  const code = (err as { code?: unknown }).code;
  const reason = err instanceof Error ? err.message : String(err);
  if (what) return new Error(`SQLite store ${path} ${what}: ${reason}`, { cause: err });
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    return new Error(
      `SQLite store ${path} cannot be used (${code}: ${reason}); the file is corrupt, unreadable or not an ` +
        'epochgate database. It was left untouched: restore it from a backup or point store.path elsewhere',
      { cause: err },
    );
  }
  // Our own checks (schema version, integrity) already name the path or the problem.
  return new Error(reason.startsWith('SQLite store') ? reason : `SQLite store ${path}: ${reason}`, { cause: err });
}
