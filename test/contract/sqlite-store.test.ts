import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { describeStoreContract, session, type ContractBackend } from './store-contract.js';
import { describeApprovalContract } from './approval-contract.js';
import { describeLedgerContract } from './ledger-contract.js';
import { describeMcpSessionContract } from './mcp-session-contract.js';
import { describeAnchorContract } from './anchor-contract.js';
import { describeKeyContract } from './key-contract.js';
import { describeNotificationContract } from './notification-contract.js';
import { describeConsoleSessionContract } from './console-session-contract.js';
import { describeReplicaContract } from './replica-contract.js';
import { describeSessionHistoryContract } from './session-history-contract.js';

let dir: string | undefined;

const contractPath = (): string => join(dir!, 'epochgate.db');

const sqliteBackend: ContractBackend = {
  name: 'sqlite',
  async create() {
    dir = mkdtempSync(join(tmpdir(), 'epochgate-store-'));
    return new SqliteStore({ path: contractPath(), synchronous: 'full' });
  },
  openPeer: async () => new SqliteStore({ path: contractPath(), synchronous: 'full' }),
  createForTiming: async () => new SqliteStore({ path: join(dir!, 'timing.db'), synchronous: 'normal' }),
  async destroy() {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  },
};

describeStoreContract(sqliteBackend);
describeSessionHistoryContract(sqliteBackend);
describeAnchorContract(sqliteBackend);
describeKeyContract(sqliteBackend);
describeApprovalContract(sqliteBackend);
describeLedgerContract(sqliteBackend);
describeMcpSessionContract(sqliteBackend);
describeNotificationContract(sqliteBackend);
describeConsoleSessionContract(sqliteBackend);
describeReplicaContract(sqliteBackend, { exclusive: true });

describe('sqlite store', () => {
  const opened: SqliteStore[] = [];
  const open = (synchronous: 'full' | 'normal' = 'full'): SqliteStore => {
    dir ??= mkdtempSync(join(tmpdir(), 'epochgate-store-'));
    const store = new SqliteStore({ path: join(dir, 'epochgate.db'), synchronous });
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('runs in WAL mode with synchronous=FULL, foreign keys and a busy timeout by default', () => {
    expect(open().settings()).toEqual({ journalMode: 'wal', synchronous: 2, foreignKeys: 1, busyTimeout: 5000 });
  });

  it('uses synchronous=NORMAL when configured', () => {
    expect(open('normal').settings().synchronous).toBe(1);
  });

  it('is what openStore returns for kind sqlite', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epochgate-store-'));
    const store = await openStore({ kind: 'sqlite', path: join(dir, 'x.db'), synchronous: 'full' });
    opened.push(store as SqliteStore);
    expect(store).toBeInstanceOf(SqliteStore);
    expect(store.kind).toBe('sqlite');
  });

  it('reports a backend failure to onError and throws store_unavailable', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epochgate-store-'));
    const seen: unknown[] = [];
    const store = await openStore({ kind: 'sqlite', path: join(dir, 'x.db'), synchronous: 'full' }, { onError: (e) => seen.push(e) });
    await store.sessions.create(session());
    // Same session id, other task: a primary-key violation is a backend failure, never a silent overwrite.
    await expect(store.sessions.create(session({ taskId: 'other' }))).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(seen).toHaveLength(1);
    await store.close();
    await expect(store.ping()).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(seen).toHaveLength(2);
  });
});
