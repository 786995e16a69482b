// `audit verify --config` reads the stored anchors read-only, without the one-writer lock (SPEC §13, §14):
// it works while `serve` holds the lock, leaves the lock with its holder, and treats a database from before
// anchors existed as holding none.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { readStoredAnchors } from '../../src/store/sqlite/sqlite-anchor-reader.js';
import type { Store } from '../../src/store/types.js';

describe('readStoredAnchors (read-only, no lock)', () => {
  let dir: string | undefined;
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads the newest anchor per chain while a gateway holds the store, and the lock stays held', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epochgate-anchor-reader-'));
    const path = join(dir, 'epochgate.db');
    const store = await openStore({ kind: 'sqlite', path, synchronous: 'full' });
    stores.push(store);
    for (const sequence of [1_000, 2_000]) await store.anchors.put({ chainUid: 'chn_a', sequence, hash: 'a'.repeat(64), jws: 'h.p.s', createdAt: sequence });
    expect(readStoredAnchors(path).map((a) => [a.chainUid, a.sequence])).toEqual([['chn_a', 2_000]]);
    // The writer can still write, and a second writer is still refused: the lock was neither taken nor broken.
    await store.anchors.put({ chainUid: 'chn_a', sequence: 3_000, hash: 'b'.repeat(64), jws: 'h.p.s', createdAt: 3_000 });
    await expect(openStore({ kind: 'sqlite', path, synchronous: 'full' })).rejects.toMatchObject({ code: 'SQLITE_STORE_LOCKED' });
    expect(readStoredAnchors(path)[0]?.sequence).toBe(3_000);
  });

  it('answers no anchors for a database from before anchors existed, and fails on a missing file', () => {
    dir = mkdtempSync(join(tmpdir(), 'epochgate-anchor-reader-'));
    const path = join(dir, 'old.db');
    const db = new Database(path);
    db.exec('CREATE TABLE sessions (session_id TEXT PRIMARY KEY)');
    db.pragma('user_version = 5');
    db.close();
    expect(readStoredAnchors(path)).toEqual([]);
    expect(() => readStoredAnchors(join(dir!, 'nope.db'))).toThrow();
  });
});
