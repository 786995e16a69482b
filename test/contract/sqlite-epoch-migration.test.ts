// Migration 11 (epoch history) on a database written by the previous schema: each existing session gets a
// row for its current epoch only, marked before_history past epoch 1; new resumes add rows from then on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function writeVersion10(path: string): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  for (const m of MIGRATIONS.filter((m) => m.version <= 10)) db.exec(m.sql);
  db.pragma('user_version = 10');
  const insert = db.prepare(
    `INSERT INTO sessions (session_id, task_id, agent_id, state, epoch, scope, original_scope, created_at, updated_at, lease_expires_at, resumes)
     VALUES (?, ?, 'agent-1', 'active', ?, '["billing"]', '["billing"]', ?, ?, ?, ?)`,
  );
  insert.run('ses_new', 'task-a', 1, T0, T0, T0 + 60_000, 0);
  insert.run('ses_old', 'task-b', 3, T0, T0 + 5000, T0 + 60_000, 2);
  db.close();
}

describe('sqlite store: migration 11 (epoch history)', () => {
  let dir: string;
  let store: SqliteStore | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'epochgate-epochs-'));
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives existing sessions one row for their current epoch, marking those past epoch 1 before_history', async () => {
    const path = join(dir, 'epochgate.db');
    writeVersion10(path);
    store = new SqliteStore({ path, synchronous: 'full' });
    const row = { scope: ['billing'], agentId: 'agent-1' };
    expect(await store.sessions.listEpochs('ses_new', 10)).toEqual([{ sessionId: 'ses_new', epoch: 1, startedAt: T0, cause: 'create', ...row }]);
    const marked = { sessionId: 'ses_old', epoch: 3, startedAt: null, cause: 'before_history', ...row };
    expect(await store.sessions.listEpochs('ses_old', 10)).toEqual([marked]);
    const resumed = await store.sessions.resume('ses_old', { expectedEpoch: 3, scope: [], now: T0 + 9000, leaseExpiresAt: T0 + 70_000, maxResumes: 10 });
    expect(resumed.ok).toBe(true);
    expect(await store.sessions.listEpochs('ses_old', 10)).toEqual([
      { sessionId: 'ses_old', epoch: 4, startedAt: T0 + 9000, cause: 'resume', scope: [], agentId: 'agent-1' },
      marked,
    ]);
  });
});
