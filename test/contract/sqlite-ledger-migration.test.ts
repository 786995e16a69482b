// Migration 5 (O(1) occurrence lookups, retention) on databases written by the previous schema, and the
// SQLite side of SPEC §10 retention (bodies dropped when a window closes or the session becomes final).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { ReserveRequest } from '../../src/store/ledger-types.js';
import { session } from './store-contract.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const DAY = 86_400_000;
let n = 0;
const call = (over: Partial<ReserveRequest> = {}): ReserveRequest => ({
  sessionId: 'ses_a', epoch: 2, tool: 'billing', idempotencyKey: null, fingerprint: 'fp-A', method: 'POST', path: '/refunds',
  mcpTool: null, attempt: `req_m${++n}`, replicaId: 'rep_a', newEntryId: `led_m${n}`, now: T0 + n, keyTtlMs: DAY, ...over,
});

/** A database as schema version 4 left it. */
function writeVersion4(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  for (const m of MIGRATIONS.filter((m) => m.version <= 4)) db.exec(m.sql);
  db.pragma('user_version = 4');
  const insertSession = db.prepare(
    `INSERT INTO sessions (session_id, task_id, agent_id, state, epoch, scope, original_scope, created_at, updated_at, lease_expires_at)
     VALUES (?, ?, 'agent-1', ?, ?, '["billing"]', '["billing"]', ?, ?, ?)`,
  );
  insertSession.run('ses_a', 'task-a', 'active', 2, T0, T0, T0 + DAY);
  insertSession.run('ses_gone', 'task-b', 'revoked', 1, T0, T0, T0 + DAY);
  return db;
}

function insertEntry(db: Database.Database, id: string, sessionId: string, occurrence: number, body: string): void {
  db.prepare(
    `INSERT INTO ledger_entries (entry_id, session_id, kind, checkpoint_seq, tool, fingerprint, occurrence, epoch, attempt_epoch,
       state, attempt, method, path, status, headers, body, created_at, updated_at)
     VALUES (?, ?, 'replay', 0, 'billing', 'fp-A', ?, 1, 1, 'completed', 'req', 'POST', '/refunds', 201, '{}', ?, ?, ?)`,
  ).run(id, sessionId, occurrence, Buffer.from(body), T0, T0);
}

describe('sqlite ledger: migration 5 and retention', () => {
  let dir: string;
  let store: SqliteStore | undefined;
  const path = () => join(dir, 'epochgate.db');
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'epochgate-mig-'));
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('renumbers occurrences left with gaps and duplicates by old releases, so replays keep ledger order', async () => {
    const db = writeVersion4(path());
    // Version 4 numbered a new entry count + 1: a release in between gave two entries occurrence 2.
    insertEntry(db, 'led_1', 'ses_a', 1, 'one');
    insertEntry(db, 'led_2', 'ses_a', 2, 'two');
    insertEntry(db, 'led_3', 'ses_a', 2, 'three');
    db.prepare(`INSERT INTO ledger_counters VALUES ('ses_a', 0, 1, 'fp-A', 3)`).run();
    db.close();

    store = new SqliteStore({ path: path(), synchronous: 'full' });
    const raw = new Database(path(), { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.prepare('SELECT entry_id, occurrence FROM ledger_entries ORDER BY ord').all()).toEqual([
      { entry_id: 'led_1', occurrence: 1 }, { entry_id: 'led_2', occurrence: 2 }, { entry_id: 'led_3', occurrence: 3 },
    ]);
    // The epoch-1 counter can never be read again (the session is at epoch 2): gone.
    expect(raw.prepare('SELECT count(*) FROM ledger_counters').pluck().get()).toBe(0);
    raw.close();
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await store.ledger.reserve(call());
      bodies.push(r.kind === 'replay' ? String(r.entry.response?.body) : r.kind);
    }
    expect(bodies).toEqual(['one', 'two', 'three']);
    expect(await store.ledger.reserve(call())).toMatchObject({ kind: 'forward', occurrence: 4, entry: { occurrence: 4 } });
  });

  it('drops the bodies of final sessions already in the file when it migrates', async () => {
    const db = writeVersion4(path());
    insertEntry(db, 'led_gone', 'ses_gone', 1, 'secret');
    insertEntry(db, 'led_live', 'ses_a', 1, 'kept');
    db.close();
    store = new SqliteStore({ path: path(), synchronous: 'full' });
    const raw = new Database(path(), { readonly: true });
    const rows = raw.prepare('SELECT entry_id, body IS NULL AS purged, closed_at IS NOT NULL AS closed FROM ledger_entries ORDER BY ord').all();
    raw.close();
    expect(rows).toEqual([{ entry_id: 'led_gone', purged: 1, closed: 1 }, { entry_id: 'led_live', purged: 0, closed: 0 }]);
  });

  it('drops bodies when the window closes or the session becomes final, and the metadata after ledger_retention', async () => {
    store = new SqliteStore({ path: path(), synchronous: 'full', ledgerRetentionMs: DAY });
    await store.sessions.create(session({ sessionId: 'ses_a' }));
    const forwardAndComplete = async (now: number): Promise<void> => {
      const r = await store!.ledger.reserve(call({ epoch: 1, now }));
      if (r.kind !== 'forward') throw new Error(r.kind);
      await store!.ledger.complete(r.entry.entryId, r.entry.attempt, { status: 201, headers: {}, body: Buffer.from('body'), bodySha256: 'x', bodyBytes: 4, now });
    };
    await forwardAndComplete(T0);
    await store.sessions.appendCheckpoint({ checkpointId: 'c1', sessionId: 'ses_a', epoch: 1, label: null, state: null, stateDigest: 'x', createdAt: T0 + 10 });
    await forwardAndComplete(T0 + 20);
    const bodies = () => {
      const raw = new Database(path(), { readonly: true });
      const rows = raw.prepare('SELECT checkpoint_seq AS w, body IS NOT NULL AS body, closed_at FROM ledger_entries ORDER BY ord').all();
      raw.close();
      return rows;
    };
    expect(bodies()).toEqual([{ w: 0, body: 0, closed_at: T0 + 10 }, { w: 1, body: 1, closed_at: null }]);
    await store.sessions.transition('ses_a', { from: ['active'], to: 'revoked', reason: 'admin', now: T0 + 30 });
    expect(bodies()).toEqual([{ w: 0, body: 0, closed_at: T0 + 10 }, { w: 1, body: 0, closed_at: T0 + 30 }]);
    // Any reservation past the purge interval deletes what closed more than ledger_retention ago.
    await store.sessions.create(session({ sessionId: 'ses_b', taskId: 'other' }));
    await store.ledger.reserve(call({ sessionId: 'ses_b', epoch: 1, now: T0 + 20 + DAY }));
    expect(bodies()).toEqual([{ w: 1, body: 0, closed_at: T0 + 30 }, { w: 0, body: 0, closed_at: null }]);
  });

  it('purges at most a batch of closed entries per reservation, and keeps purging on the next ones until done', async () => {
    store = new SqliteStore({ path: path(), synchronous: 'normal', ledgerRetentionMs: DAY });
    await store.sessions.create(session({ sessionId: 'ses_a' }));
    const raw = new Database(path());
    const insert = raw.prepare(
      `INSERT INTO ledger_entries (entry_id, session_id, kind, checkpoint_seq, tool, fingerprint, occurrence, epoch, attempt_epoch,
         state, attempt, method, path, created_at, updated_at, closed_at)
       VALUES (?, 'ses_a', 'replay', 0, 'billing', 'fp-old', ?, 1, 1, 'completed', 'req', 'POST', '/p', ?, ?, ?)`,
    );
    raw.transaction(() => {
      for (let i = 1; i <= 1200; i++) insert.run(`led_old_${i}`, i, T0, T0, T0);
    })();
    const closedLeft = () => raw.prepare('SELECT count(*) FROM ledger_entries WHERE closed_at IS NOT NULL').pluck().get();
    const later = T0 + 2 * DAY;
    const left: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      await store.ledger.reserve(call({ epoch: 1, fingerprint: `fp-${i}`, now: later }));
      left.push(closedLeft());
    }
    raw.close();
    expect(left).toEqual([700, 200, 0, 0]);
  });
});
