// store.kind postgres in the operator config: url required (postgres:// or postgresql://), pool_size 1–100
// (default 10), strict keys, and no message ever repeating the URL or its password.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const TOOLS = `tools:\n  billing:\n    upstream: "http://127.0.0.1:9001/api/"\n`;

function load(store: string, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-config-'));
  const file = join(dir, 'epochgate.yaml');
  writeFileSync(file, `store: ${store}\n${TOOLS}`);
  return loadConfig(file, {}, env);
}

function failure(store: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    load(store, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('store.kind postgres', () => {
  it('loads url (with ${NAME} substitution) and defaults pool_size to 10 and ledger_retention to 7d', () => {
    const config = load('{ kind: postgres, url: "postgres://eg:${PGPASSWORD}@db:5432/epochgate" }', { PGPASSWORD: 'pw' });
    expect(config.store).toEqual({ kind: 'postgres', url: 'postgres://eg:pw@db:5432/epochgate', poolSize: 10, replicaTimeoutMs: 30_000, ledgerRetentionMs: 7 * 86_400_000 });
  });

  it('accepts postgresql:// and a pool_size from 1 to 100', () => {
    expect(load('{ kind: postgres, url: "postgresql://db/x", pool_size: 1 }').store).toMatchObject({ poolSize: 1 });
    expect(load('{ kind: postgres, url: "postgresql://db/x", pool_size: 100, ledger_retention: 1d }').store).toEqual({
      kind: 'postgres', url: 'postgresql://db/x', poolSize: 100, replicaTimeoutMs: 30_000, ledgerRetentionMs: 86_400_000,
    });
  });

  it('takes replica_timeout_ms from 1000 to 3600000 (postgres only)', () => {
    expect(load('{ kind: postgres, url: "postgres://db/x", replica_timeout_ms: 1000 }').store).toMatchObject({ replicaTimeoutMs: 1000 });
    expect(load('{ kind: postgres, url: "postgres://db/x", replica_timeout_ms: 3600000 }').store).toMatchObject({ replicaTimeoutMs: 3_600_000 });
  });

  it.each([
    ['{ kind: postgres }', 'store.url'],
    ['{ kind: postgres, url: "mysql://db/x" }', 'store.url'],
    ['{ kind: postgres, url: "postgres://" }', 'store.url'],
    ['{ kind: postgres, url: "db:5432" }', 'store.url'],
    ['{ kind: postgres, url: "postgres://db/x", pool_size: 0 }', 'store.pool_size'],
    ['{ kind: postgres, url: "postgres://db/x", pool_size: 101 }', 'store.pool_size'],
    ['{ kind: postgres, url: "postgres://db/x", pool_size: 2.5 }', 'store.pool_size'],
    ['{ kind: postgres, url: "postgres://db/x", path: "x.db" }', 'store.path'],
    ['{ kind: postgres, url: "postgres://db/x", replica_timeout_ms: 999 }', 'store.replica_timeout_ms'],
    ['{ kind: postgres, url: "postgres://db/x", replica_timeout_ms: 3600001 }', 'store.replica_timeout_ms'],
    ['{ kind: sqlite, replica_timeout_ms: 5000 }', 'store.replica_timeout_ms'],
  ])('rejects %s at %s', (store, path) => {
    expect(failure(store).issues[0]).toMatchObject({ path, line: 1 });
  });

  it('never repeats the URL or its password in an error', () => {
    const error = failure('{ kind: postgres, url: "mysql://eg:${PGPASSWORD}@db/x" }', { PGPASSWORD: 'Hunter2-secret' });
    expect(error.issues[0]).toMatchObject({ path: 'store.url', message: expect.stringContaining('postgres:// or postgresql://') });
    expect(JSON.stringify(error.issues) + error.message).not.toMatch(/Hunter2-secret|mysql:|eg:/);
  });
});
