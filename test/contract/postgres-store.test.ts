// The Store contract suites (DESIGN rule 7) run against PostgreSQL. One migrated schema serves this file;
// every test starts from it emptied, so each create() is a fresh, empty store without paying a migration.
import { afterAll } from 'vitest';
import { openPostgresStore, PostgresStore } from '../../src/store/postgres/pg-store.js';
import type { Store } from '../../src/store/types.js';
import { freshPgSchema, pgAdmin, type PgSchema } from '../helpers/postgres.js';
import { describeStoreContract, type ContractBackend } from './store-contract.js';
import { describeApprovalContract } from './approval-contract.js';
import { describeLedgerContract } from './ledger-contract.js';
import { describeMcpSessionContract } from './mcp-session-contract.js';
import { describeAnchorContract } from './anchor-contract.js';
import { describeKeyContract } from './key-contract.js';
import { describeNotificationContract } from './notification-contract.js';
import { describeConsoleSessionContract } from './console-session-contract.js';

const TABLES =
  'mcp_sessions, approvals, ledger_entries, ledger_counters, checkpoints, sessions, used_assertions, replicas, anchors, signing_keys, notifications, console_sessions';

let schema: PgSchema | undefined;

async function emptySchema(): Promise<PgSchema> {
  if (schema === undefined) {
    schema = await freshPgSchema('contract');
    await (await openPostgresStore({ url: schema.url })).close();
  } else {
    await pgAdmin(`SET search_path = ${schema.name}; TRUNCATE ${TABLES}`);
  }
  return schema;
}

// TEMPORARY until the store seam: the contract suites still call the flat Store methods.
function flat(s: PostgresStore): Store {
  return Object.assign(Object.create(s) as object, {
    kind: s.kind, approvals: s.approvals, ledger: s.ledger, mcpSessions: s.mcpSessions, anchors: s.anchors,
    keys: s.keys, notifications: s.notifications, consoleSessions: s.consoleSessions,
    createSession: (x: never) => s.sessions.create(x),
    getSession: (x: never) => s.sessions.get(x),
    listSessions: (x: never) => s.sessions.list(x),
    countSessionsByState: () => s.sessions.countByState(),
    resumeSession: (a: never, b: never) => s.sessions.resume(a, b),
    transitionSession: (a: never, b: never) => s.sessions.transition(a, b),
    renewLease: (a: never, b: never, c: never, d: never) => s.sessions.renewLease(a, b, c, d),
    suspendExpiredLeases: (a: never) => s.sessions.suspendExpiredLeases(a),
    closeAgedSessions: (a: never, b: never) => s.sessions.closeAged(a, b),
    appendCheckpoint: (a: never) => s.sessions.appendCheckpoint(a),
    latestCheckpoint: (a: never) => s.sessions.latestCheckpoint(a),
    useAssertionId: (a: never, b: never, c: never) => s.assertionIds.use(a, b, c),
    ping: () => s.ping(),
    close: () => s.close(),
  }) as unknown as Store;
}

const postgresBackend: ContractBackend = {
  name: 'postgres',
  async create() {
    return flat(await openPostgresStore({ url: (await emptySchema()).url }));
  },
  openPeer: async () => flat(await openPostgresStore({ url: schema!.url })),
};

afterAll(async () => {
  await schema?.drop();
});

describeStoreContract(postgresBackend);
describeAnchorContract(postgresBackend);
describeApprovalContract(postgresBackend);
describeLedgerContract(postgresBackend);
describeMcpSessionContract(postgresBackend);
describeKeyContract(postgresBackend);
describeNotificationContract(postgresBackend);
describeConsoleSessionContract(postgresBackend);
