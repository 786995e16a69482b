// Read-only access to the stored audit anchors, for `epochgate audit verify --config` (SPEC §13). It never
// takes the one-writer lock (`<db>.lock`, sqlite-lock.ts) and never migrates or writes: a verification must
// work while `serve` holds the lock, and must not stop a gateway from starting. A plain read-only SQLite
// connection reads a consistent snapshot of the WAL database without blocking the writer.
import Database from 'better-sqlite3';
import type { StoredAnchor } from '../anchor-types.js';
import type { PublishedKey } from '../key-types.js';
import { NEWEST_PER_CHAIN_SQL } from './sqlite-anchors.js';
import { ALL_KEYS_SQL, toKey } from './sqlite-keys.js';
import { prepareOne } from './sqlite-prepare.js';

/** The newest anchor of every chain anchored at or after `createdAtOrAfter` (all chains: 0). */
export function readStoredAnchors(path: string, createdAtOrAfter = 0): StoredAnchor[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'anchors'").pluck().get();
    // A database from before anchors existed holds none; that is not an error of the audit files.
    if (hasTable === undefined) return [];
    return prepareOne(db, NEWEST_PER_CHAIN_SQL).all(createdAtOrAfter);
  } finally {
    db.close();
  }
}

/** Every published signing key, retired ones included (SPEC §17): an anchor signed before its key was
 *  retired, or by a key since removed from the key file, still verifies. */
export function readPublishedKeys(path: string): PublishedKey[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'signing_keys'").pluck().get();
    if (hasTable === undefined) return [];
    return prepareOne(db, ALL_KEYS_SQL).all().map(toKey);
  } finally {
    db.close();
  }
}
