// Read-only access to the stored audit anchors, for `epochgate audit verify --config` (SPEC §13). It never
// takes the one-writer lock (`<db>.lock`, sqlite-lock.ts) and never migrates or writes: a verification must
// work while `serve` holds the lock, and must not stop a gateway from starting. A plain read-only SQLite
// connection reads a consistent snapshot of the WAL database without blocking the writer.
import Database from 'better-sqlite3';
import type { StoredAnchor } from '../anchor-types.js';
import { NEWEST_PER_CHAIN_SQL } from './sqlite-anchors.js';

/** The newest anchor of every chain anchored at or after `createdAtOrAfter` (all chains: 0). */
export function readStoredAnchors(path: string, createdAtOrAfter = 0): StoredAnchor[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'anchors'").pluck().get();
    // A database from before anchors existed holds none; that is not an error of the audit files.
    if (hasTable === undefined) return [];
    return db.prepare<[number], StoredAnchor>(NEWEST_PER_CHAIN_SQL).all(createdAtOrAfter);
  } finally {
    db.close();
  }
}
