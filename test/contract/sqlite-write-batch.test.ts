// Group commit (src/store/sqlite/sqlite-write-batch.ts): writes of one event-loop turn share one
// IMMEDIATE transaction, each in its own savepoint, and every caller hears back only after the COMMIT.
// The same-turn cases run against the memory store too: callers must not be able to tell the difference.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { CompletedOutcome } from '../../src/store/ledger-types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { SqliteWriteBatch } from '../../src/store/sqlite/sqlite-write-batch.js';
import type { Store } from '../../src/store/types.js';
import { call, DAY, T0 } from './ledger-contract.js';
import { session } from './store-contract.js';

const outcome = (body: string): CompletedOutcome => ({
  status: 201,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(body),
  bodySha256: 'ab'.repeat(32),
  bodyBytes: body.length,
  now: T0 + 100,
});

let dir: string | undefined;
const tmp = (): string => (dir ??= mkdtempSync(join(tmpdir(), 'epochgate-batch-')));
const dbPath = (): string => join(tmp(), 'epochgate.db');

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('SqliteWriteBatch', () => {
  const openRaw = (): Database.Database => {
    const db = new Database(join(tmp(), 'raw.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (v TEXT PRIMARY KEY)');
    return db;
  };
  const values = (db: Database.Database): string[] => db.prepare<[], string>('SELECT v FROM t ORDER BY v').pluck().all();

  it('commits the operations of one turn together; one that throws is rolled back alone', async () => {
    const db = openRaw();
    const batch = new SqliteWriteBatch(db);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const a = batch.run(() => insert.run('a').changes);
    const b = batch.run(() => {
      insert.run('b');
      throw new Error('b fails after its insert');
    });
    const c = batch.run(() => insert.run('c').changes);
    await expect(a).resolves.toBe(1);
    await expect(b).rejects.toThrow('b fails after its insert');
    await expect(c).resolves.toBe(1);
    expect(values(db)).toEqual(['a', 'c']);
    expect(db.inTransaction).toBe(false);
    db.close();
  });

  it('settles nobody before the COMMIT, and everybody with its error when the batch cannot begin', async () => {
    const db = openRaw();
    db.pragma('busy_timeout = 0');
    const peer = new Database(join(tmp(), 'raw.db'));
    peer.exec('BEGIN IMMEDIATE'); // another writer holds the lock: BEGIN IMMEDIATE of the batch fails
    const batch = new SqliteWriteBatch(db);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const both = [batch.run(() => insert.run('x')), batch.run(() => insert.run('y'))];
    for (const p of both) await expect(p).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    peer.exec('ROLLBACK');
    expect(values(db)).toEqual([]);
    // The batcher is usable again once the lock is free.
    await expect(batch.run(() => insert.run('z').changes)).resolves.toBe(1);
    peer.close();
    db.close();
  });

  it('runs the operations of one batch in the order they were queued', async () => {
    const db = openRaw();
    const batch = new SqliteWriteBatch(db);
    const order: string[] = [];
    await Promise.all(['1', '2', '3'].map((v) => batch.run(() => order.push(v))));
    expect(order).toEqual(['1', '2', '3']);
    db.close();
  });
});

for (const backend of ['sqlite', 'memory'] as const) {
  describe(`ledger writes queued in one event-loop turn: ${backend}`, () => {
    const stores: Store[] = [];
    const open = async (): Promise<Store> => {
      const store = backend === 'sqlite' ? new SqliteStore({ path: dbPath(), synchronous: 'full' }) : new MemoryStore();
      stores.push(store);
      expect((await store.sessions.create(session())).ok).toBe(true);
      expect((await store.sessions.create(session({ sessionId: 'ses_b', taskId: 'task-2' }))).ok).toBe(true);
      return store;
    };
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close();
    });

    it('a reservation and its completion in the same turn: the completion sees the reservation', async () => {
      const store = await open();
      const r = call();
      const reserved = store.ledger.reserve(r);
      const completed = store.ledger.complete(r.newEntryId, r.attempt, outcome('{"ok":1}'));
      expect((await reserved).kind).toBe('forward');
      expect(await completed).toBe(true);
      const [entry] = await store.ledger.list('ses_a', T0 + 1000);
      expect(entry).toMatchObject({ entryId: r.newEntryId, state: 'completed', status: 201 });
    });

    it('a stale-epoch reservation is fenced while another session’s in the same turn is reserved', async () => {
      const store = await open();
      const resumed = await store.sessions.resume('ses_a', { expectedEpoch: 1, scope: ['billing'], now: T0, leaseExpiresAt: T0 + DAY, maxResumes: 9 });
      expect(resumed.ok).toBe(true);
      const stale = store.ledger.reserve(call({ sessionId: 'ses_a', epoch: 1 }));
      const fresh = store.ledger.reserve(call({ sessionId: 'ses_b', epoch: 1 }));
      expect(await stale).toMatchObject({ kind: 'fenced', current: { epoch: 2 } });
      expect((await fresh).kind).toBe('forward');
      expect(await store.ledger.list('ses_a', T0 + 1000)).toEqual([]);
      expect(await store.ledger.list('ses_b', T0 + 1000)).toHaveLength(1);
    });

    it('identical calls of one turn take successive occurrences', async () => {
      const store = await open();
      const results = await Promise.all([1, 2, 3].map(() => store.ledger.reserve(call())));
      expect(results.map((r) => (r.kind === 'forward' ? r.occurrence : 0))).toEqual([1, 2, 3]);
    });
  });
}

describe('group commit: durability and failure', () => {
  it('an acknowledged reservation is on disk for the next process (the connection is not reused)', async () => {
    const store = new SqliteStore({ path: dbPath(), synchronous: 'full' });
    await store.sessions.create(session());
    const r = call();
    expect((await store.ledger.reserve(r)).kind).toBe('forward');
    // A second connection (as after a restart) sees the committed row while the first is still open.
    const peer = new SqliteStore({ path: dbPath(), synchronous: 'full' });
    expect((await peer.ledger.list('ses_a', T0 + 1000)).map((e) => e.entryId)).toEqual([r.newEntryId]);
    await peer.close();
    await store.close();
  });

  it('writes queued when the store closes are committed, not dropped', async () => {
    const store = new SqliteStore({ path: dbPath(), synchronous: 'full' });
    await store.sessions.create(session());
    const r = call();
    const reserved = store.ledger.reserve(r);
    await store.close();
    expect((await reserved).kind).toBe('forward');
    const reopened = new SqliteStore({ path: dbPath(), synchronous: 'full' });
    expect(await reopened.ledger.list('ses_a', T0 + 1000)).toHaveLength(1);
    await reopened.close();
  });

  it('a batch that fails answers store_unavailable to each of its callers', async () => {
    const store = new SqliteStore({ path: dbPath(), synchronous: 'full' });
    await store.sessions.create(session());
    const holder = new Database(dbPath());
    holder.pragma('busy_timeout = 0');
    holder.exec('BEGIN IMMEDIATE');
    // Shortens the wait for the held lock (the store's default is BUSY_TIMEOUT_MS).
    (store as unknown as { db: Database.Database }).db.pragma('busy_timeout = 50');
    const both = [store.ledger.reserve(call()), store.ledger.reserve(call({ sessionId: 'ses_a', fingerprint: 'fp-B' }))];
    for (const p of both) {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).code).toBe('store_unavailable');
    }
    holder.exec('ROLLBACK');
    holder.close();
    expect((await store.ledger.reserve(call())).kind).toBe('forward');
    await store.close();
  });
});
