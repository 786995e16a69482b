// SPEC §14 "one writer per SQLite file": `serve` holds an exclusive lock on the database before it opens
// it, writes the audit file or recovers the ledger, so a second gateway on the same file changes nothing.
//
// Why a sidecar SQLite file (`<db>.lock`) held in EXCLUSIVE locking mode:
// - Node has no flock(). SQLite's own POSIX advisory (fcntl) locks are the portable primitive we have, and
//   the kernel drops them when the holder dies, kill -9 included: a restart after a crash is never blocked
//   by a stale lock (a PID file alone would need guessing whether the PID is still ours).
// - SQLite tracks its locks per inode inside one process too, so a second connection in the same process
//   is refused like another process (in-process tests see the real behaviour).
// - A separate file, not the database itself: taking the lock must not read, recover or migrate the
//   database (a damaged one included), and the database keeps WAL mode with normal shared-memory locking.
// The holder writes who it is (pid, host, start time) next to the lock, after acquiring it, so that the
// loser can name it; that file is information only, never the lock.
import { hostname } from 'node:os';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';

export interface SqliteLock {
  /** Gives the lock back (closing the lock connection); idempotent. */
  release(): void;
}

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
}

/** Thrown when another live process holds the lock; `holder` is null when it has not said who it is yet. */
export class SqliteLockedError extends Error {
  readonly code = 'SQLITE_STORE_LOCKED';
  constructor(
    readonly path: string,
    readonly holder: LockHolder | null,
  ) {
    const who = holder ? `process ${holder.pid} on host ${holder.host} (since ${holder.started})` : 'another process';
    super(
      `SQLite store ${path} is in use by ${who}: only one epochgate serve may use a SQLite file; ` +
        'nothing was changed. Stop that gateway first, or point store.path at another file',
    );
  }
}

export const lockPath = (dbPath: string): string => `${dbPath}.lock`;
export const holderPath = (dbPath: string): string => `${dbPath}.lock-holder`;

/** Takes the lock without waiting for it; rejects with SqliteLockedError when it is held. */
export async function acquireSqliteLock(dbPath: string): Promise<SqliteLock> {
  const file = lockPath(dbPath);
  try {
    mkdirSync(dirname(file), { recursive: true });
    // Owner-only like the database (SQLite would create it with the umask's mode otherwise).
    closeSync(openSync(file, 'a', 0o600));
  } catch (err) {
    throw new Error(`SQLite store ${dbPath}: cannot create the lock file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 0');
    // EXCLUSIVE locking mode: once taken, SQLite never gives the file lock back until the connection closes.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS lock (held INTEGER)');
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') throw new SqliteLockedError(dbPath, await currentHolder(dbPath));
    throw new Error(`SQLite store ${dbPath}: cannot take the lock file ${file}: ${(err as Error).message}`, { cause: err });
  }
  writeHolder(dbPath);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      rmSync(holderPath(dbPath), { force: true });
      db.close();
    },
  };
}

/** Written to a temporary name and renamed, so a reader sees the old holder or the new one, never half. */
function writeHolder(dbPath: string): void {
  const holder: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  const tmp = `${holderPath(dbPath)}.${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(holder)}\n`, { mode: 0o600 });
  renameSync(tmp, holderPath(dbPath));
}

/**
 * The holder writes its file just after taking the lock, so a loser racing it may find no file yet, or the
 * file of a holder killed before (kill -9 leaves it behind). Neither names the process that holds the lock
 * now: poll briefly (bounded) for a file whose process is alive. Liveness can only be checked on this host;
 * a holder on another host (a shared volume) is believed.
 */
async function currentHolder(dbPath: string): Promise<LockHolder | null> {
  const deadline = Date.now() + HOLDER_WAIT_MS;
  for (;;) {
    const holder = readHolder(dbPath);
    if (holder && (holder.host !== hostname() || isAlive(holder.pid))) return holder;
    if (Date.now() >= deadline) return null;
    await sleep(20);
  }
}

/** How long a loser waits for the winner's holder file. */
const HOLDER_WAIT_MS = 1000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(dbPath: string): LockHolder | null {
  try {
    const parsed = JSON.parse(readFileSync(holderPath(dbPath), 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return null;
    return { pid: parsed.pid, host: parsed.host, started: String(parsed.started ?? 'unknown') };
  } catch {
    return null;
  }
}
