// The one place that turns operator store config into a Store (SPEC §1). Open failures are plain Errors
// naming the file or database (its password redacted): they stop start-up (SPEC §14), they are not request-time store_unavailable.
import type { StoreConfig } from '../config/types.js';
import { MemoryStore } from './memory/memory-store.js';
import { acquireSqliteLock } from './sqlite/sqlite-lock.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  /** Sees every backend failure before it is thrown as store_unavailable (e.g. epochgate_store_errors_total). */
  readonly onError?: (err: unknown) => void;
}

export async function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Promise<Store> {
  const observer = options.onError ? { onError: options.onError } : {};
  switch (config.kind) {
    case 'sqlite':
      return openSqlite(config.path, { synchronous: config.synchronous, ...retention(config.ledgerRetentionMs), ...observer });
    case 'postgres': {
      // Loaded only here: the pg driver is not worth its start-up time to a SQLite gateway or a CLI command.
      const { openPostgresStore } = await import('./postgres/pg-store.js');
      return openPostgresStore({ url: config.url, poolSize: config.poolSize, ...retention(config.ledgerRetentionMs), ...observer });
    }
    case 'memory':
      return new MemoryStore({ ...retention(config.ledgerRetentionMs), ...observer });
  }
}

/** SPEC §14: the one-writer lock comes first, before the file is even inspected; a failed open gives it back. */
async function openSqlite(path: string, options: Omit<SqliteStoreOptions, 'path' | 'lock'>): Promise<Store> {
  if (path === ':memory:') return new SqliteStore({ path, ...options });
  const lock = await acquireSqliteLock(path);
  try {
    return new SqliteStore({ path, lock, ...options });
  } catch (err) {
    lock.release();
    throw err;
  }
}

const retention = (ms: number | undefined) => (ms === undefined ? {} : { ledgerRetentionMs: ms });
