// SPEC §14: a missing database is created; an unreadable or corrupt one is a start-up error and is never
// silently replaced (that would reset every epoch).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite/migrations.js';
import type { Store } from '../../src/store/types.js';

const sqlite = (path: string) => openStore({ kind: 'sqlite', path, synchronous: 'full' });
const isRoot = process.getuid?.() === 0;

describe('opening the sqlite store', () => {
  let dir: string;
  const opened: Store[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'epochgate-open-'));
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a missing file and its missing parent directories', async () => {
    const path = join(dir, 'var', 'state', 'epochgate.db');
    const store = await sqlite(path);
    opened.push(store);
    await store.ping();
    expect(statSync(path).isFile()).toBe(true);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it('creates the database owner-only (0600), and SQLite gives its WAL and SHM files the same mode', async () => {
    const path = join(dir, 'epochgate.db');
    const store = await sqlite(path);
    opened.push(store);
    await store.useAssertionId('k', Date.now() + 60_000, Date.now()); // a write, so the WAL exists
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(statSync(file).mode & 0o777, file).toBe(0o600);
  });

  it('rejects a file of garbage bytes, naming the path, and leaves it untouched', async () => {
    const path = join(dir, 'epochgate.db');
    const garbage = Buffer.from('not a database, just some bytes\n'.repeat(300));
    writeFileSync(path, garbage);
    await expect(sqlite(path)).rejects.toThrow(path);
    await expect(sqlite(path)).rejects.toThrow(/corrupt|not a database/i);
    expect(readFileSync(path).equals(garbage)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('rejects a database whose pages are damaged', async () => {
    const path = join(dir, 'epochgate.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE filler (x TEXT); CREATE INDEX filler_x ON filler (x)');
    const insert = raw.prepare('INSERT INTO filler VALUES (?)');
    raw.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run(`row-${i}-${'x'.repeat(100)}`);
    })();
    raw.close();
    const bytes = readFileSync(path);
    const pageSize = bytes.readUInt16BE(16);
    // Scribble over pages 2..4 (page 1 holds the header, so the file still looks like SQLite).
    bytes.fill(0xa5, pageSize, pageSize * 4);
    writeFileSync(path, bytes);
    await expect(sqlite(path)).rejects.toThrow(path);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('rejects a path it cannot read as a database file (a directory), naming the path', async () => {
    const path = join(dir, 'epochgate.db');
    mkdirSync(path);
    await expect(sqlite(path)).rejects.toThrow(path);
  });

  it.skipIf(isRoot)('rejects a file that this process may not read, naming the path', async () => {
    const path = join(dir, 'epochgate.db');
    (await sqlite(path)).close();
    chmodSync(path, 0o000);
    await expect(sqlite(path)).rejects.toThrow(path);
    chmodSync(path, 0o600);
  });

  it.skipIf(isRoot)('rejects a file that this process may read but not write', async () => {
    const path = join(dir, 'epochgate.db');
    await (await sqlite(path)).close();
    chmodSync(path, 0o400);
    await expect(sqlite(path)).rejects.toThrow(/not readable and writable/);
    chmodSync(path, 0o600);
  });

  it('refuses a database from a newer epochgate (user_version above ours)', async () => {
    const path = join(dir, 'epochgate.db');
    await (await sqlite(path)).close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    await expect(sqlite(path)).rejects.toThrow(new RegExp(`${path}.*schema version ${SCHEMA_VERSION + 1}.*newer`));
  });

  it("refuses another program's database instead of adding tables to it", async () => {
    const path = join(dir, 'other.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY)');
    raw.close();
    await expect(sqlite(path)).rejects.toThrow(/not an epochgate database/);
  });

  it('opens an existing database again without migrating twice, keeping its data', async () => {
    const path = join(dir, 'epochgate.db');
    const first = await sqlite(path);
    expect(await first.useAssertionId('jti', Date.now() + 60_000, Date.now())).toBe(true);
    await first.close();
    const second = await sqlite(path);
    opened.push(second);
    expect(await second.useAssertionId('jti', Date.now() + 60_000, Date.now())).toBe(false);
  });

  it('refuses the redis store with a clear message until it exists', async () => {
    await expect(openStore({ kind: 'redis', url: 'redis://127.0.0.1:6379/0' })).rejects.toThrow('redis store is not available yet');
  });
});
