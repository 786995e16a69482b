// The Store contract suites (DESIGN rule 7) run against PostgreSQL. One migrated schema serves this file;
// every test starts from it emptied, so each create() is a fresh, empty store without paying a migration.
import { afterAll } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres/pg-store.js';
import { freshPgSchema, pgAdmin, type PgSchema } from '../helpers/postgres.js';
import { describeStoreContract, type ContractBackend } from './store-contract.js';
import { describeApprovalContract } from './approval-contract.js';
import { describeLedgerContract } from './ledger-contract.js';
import { describeMcpSessionContract } from './mcp-session-contract.js';
import { describeAnchorContract } from './anchor-contract.js';
import { describeKeyContract } from './key-contract.js';
import { describeNotificationContract } from './notification-contract.js';
import { describeConsoleSessionContract } from './console-session-contract.js';
import { describeReplicaContract } from './replica-contract.js';
import { describeSessionHistoryContract } from './session-history-contract.js';

const TABLES =
  'mcp_sessions, approvals, ledger_entries, ledger_counters, checkpoints, session_epochs, sessions, used_assertions, replicas, anchors, signing_keys, notifications, console_sessions';

let schema: PgSchema | undefined;

async function emptySchema(): Promise<PgSchema> {
  if (schema === undefined) {
    schema = await freshPgSchema('contract');
    await (await openPostgresStore({ url: schema.url })).close();
  } else {
    await pgAdmin(`TRUNCATE ${TABLES.split(', ').map((t) => `${schema!.name}.${t}`).join(', ')}`);
  }
  return schema;
}

const postgresBackend: ContractBackend = {
  name: 'postgres',
  create: async () => openPostgresStore({ url: (await emptySchema()).url }),
  openPeer: async () => openPostgresStore({ url: schema!.url }),
  // Each reservation is a transaction of a few round trips: 20 × 25 calls per phase keep the test within
  // its time on a loaded machine; postgres-ledger-plans.test.ts checks the statements on 20 k entries.
  ledgerTimingBatch: 25,
};

afterAll(async () => {
  await schema?.drop();
});

describeStoreContract(postgresBackend);
describeSessionHistoryContract(postgresBackend);
describeAnchorContract(postgresBackend);
describeApprovalContract(postgresBackend);
describeLedgerContract(postgresBackend);
describeMcpSessionContract(postgresBackend);
describeKeyContract(postgresBackend);
describeNotificationContract(postgresBackend);
describeConsoleSessionContract(postgresBackend);
describeReplicaContract(postgresBackend, { exclusive: false });
