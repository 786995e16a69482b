// SPEC §14: a missing database is created; an unreadable or corrupt one is a start-up error and is never
// silently replaced (that would reset every epoch).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { startGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { writeGatewayFiles } from '../helpers/gateway.js';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite/migrations.js';
import type { Store } from '../../src/store/types.js';
import { SqliteLockedError } from '../../src/store/sqlite/sqlite-lock.js';
import { DAMAGES, writeDamaged, writeHealthyDatabase } from '../helpers/damaged-db.js';

const sqlite = (path: string) => openStore({ kind: 'sqlite', path, synchronous: 'full' });
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const OPEN_STORE_JS = fileURLToPath(new URL('../../dist/store/open-store.js', import.meta.url));

/** As root: the file and its directory belong to root, so nobody meets the mode bits. Else: chmod only. */
function handToOtherUser(dir: string, path: string, mode: number): void {
  rmSync(`${path}.lock`, { force: true }); // the child takes its own lock; the database is what is tested
  chmodSync(path, mode);
  if (isRoot) chmodSync(dir, 0o777);
}

/** Opens the store in a child process (as nobody when we are root); resolves with its error message. */
function openInChild(path: string): Promise<string> {
  const script = `import(${JSON.stringify(pathToFileURL(OPEN_STORE_JS).href)}).then((m) => m.openStore({ kind: 'sqlite', path: ${JSON.stringify(path)}, synchronous: 'full' }))
    .then(() => { process.stdout.write('opened'); }, (err) => { process.stdout.write(String(err.message)); })`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], isRoot ? { uid: NOBODY, gid: NOBODY } : {}, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

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
    await store.assertionIds.use('k', Date.now() + 60_000, Date.now()); // a write, so the WAL exists
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

  // Permission checks need a process that is not root (root reads and writes whatever the mode says): as
  // root the open runs in a child process as nobody, so the same case runs whoever runs the suite.
  it('rejects a file that this process may not read, naming the path', async () => {
    const path = join(dir, 'epochgate.db');
    await (await sqlite(path)).close();
    handToOtherUser(dir, path, 0o600);
    expect(await openInChild(path)).toMatch(new RegExp(`${path}.*(not readable|cannot be inspected|unable to open|corrupt)`));
  });

  it('rejects a file that this process may read but not write', async () => {
    const path = join(dir, 'epochgate.db');
    await (await sqlite(path)).close();
    handToOtherUser(dir, path, 0o644);
    expect(await openInChild(path)).toMatch(/not readable and writable/);
  });

  it('rejects a path whose parent is a regular file, naming the path', async () => {
    writeFileSync(join(dir, 'file'), 'x');
    const path = join(dir, 'file', 'epochgate.db');
    await expect(sqlite(path)).rejects.toThrow(path);
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
    expect(await first.assertionIds.use('jti', Date.now() + 60_000, Date.now())).toBe(true);
    await first.close();
    const second = await sqlite(path);
    opened.push(second);
    expect(await second.assertionIds.use('jti', Date.now() + 60_000, Date.now())).toBe(false);
  });

  // Each damage alone must be refused: a store that accepted any of them would start with fresh epochs.
  for (const damage of DAMAGES) {
    it(`refuses a damaged database (${damage.name}), naming the path and leaving the bytes as they were`, async () => {
      const path = join(dir, 'epochgate.db');
      const bytes = writeDamaged(path, await writeHealthyDatabase(path), damage);
      await expect(sqlite(path)).rejects.toThrow(path);
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(existsSync(`${path}-wal`)).toBe(false);
      // The failed open gave its lock back: a second try meets the same damage, not a lock.
      await expect(sqlite(path)).rejects.not.toBeInstanceOf(SqliteLockedError);
    });
  }

  it('never leaves a zero-length file when it creates a database (built aside, then linked into place)', async () => {
    const path = join(dir, 'epochgate.db');
    (await sqlite(path)).close();
    expect(readFileSync(path).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\u0000');
    expect(readdirSync(dir).filter((f) => f.includes('.new-'))).toEqual([]);
  });

  it('refuses a database that claims our schema version but lacks a table', async () => {
    const path = join(dir, 'epochgate.db');
    await (await sqlite(path)).close();
    const raw = new Database(path);
    raw.exec('DROP TABLE mcp_sessions');
    raw.close();
    await expect(sqlite(path)).rejects.toThrow(/tables missing: mcp_sessions/);
  });
});

describe('one writer per SQLite file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'epochgate-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second open of the same file while the first holds it, naming the holder pid and host', async () => {
    const path = join(dir, 'epochgate.db');
    const first = await sqlite(path);
    const refused = await sqlite(path).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(SqliteLockedError);
    expect((refused as SqliteLockedError).holder).toMatchObject({ pid: process.pid, host: hostname() });
    expect(String((refused as Error).message)).toContain(`process ${process.pid} on host ${hostname()}`);
    await first.ping();
    await first.close();
    const again = await sqlite(path);
    await again.close();
  });

  it('never names a dead process left in the holder file by a crash: it waits (bounded) for the live holder', async () => {
    const path = join(dir, 'epochgate.db');
    const first = await sqlite(path);
    const liveHolder = readFileSync(`${path}.lock-holder`);
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    // As if the holder was killed -9 earlier and the new one has not written its file yet.
    writeFileSync(`${path}.lock-holder`, JSON.stringify({ pid: deadPid, host: hostname(), started: 'earlier' }));
    const refused = sqlite(path).catch((err: unknown) => err);
    writeFileSync(`${path}.lock-holder`, liveHolder);
    expect(await refused).toMatchObject({ holder: { pid: process.pid } });
    await first.close();
  });

  it('gives the lock back when the gateway fails to start after taking it (a port already in use)', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    const files = writeGatewayFiles({ upstreamUrl: 'http://127.0.0.1:9', dir });
    const config = loadConfig(files.configFile, { listenData: `127.0.0.1:${port}` });
    try {
      await expect(startGateway({ config, logger: pino({ level: 'silent' }), watchPolicies: false })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      busy.close();
    }
    const path = config.store.kind === 'sqlite' ? config.store.path : '';
    await (await sqlite(path)).close();
  });

  it('takes the lock before looking at the file: a second open of a damaged file held by another is a lock error', async () => {
    const path = join(dir, 'epochgate.db');
    const first = await sqlite(path);
    writeFileSync(join(dir, 'other.db'), '');
    await expect(sqlite(path)).rejects.toBeInstanceOf(SqliteLockedError);
    await first.close();
  });
});
