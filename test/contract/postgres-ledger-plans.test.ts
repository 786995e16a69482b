// SPEC §10 "Cost does not grow with the ledger", on PostgreSQL (DESIGN rule 16): with 20 k entries of one
// fingerprint in one window, every statement a reservation runs reads at most one row of each table, by
// index. Checked on the server's own executed plans (EXPLAIN ANALYZE) under generic plans, which is what
// named statements end up using, rather than on timings a loaded machine would blur.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { LQ } from '../../src/store/postgres/pg-ledger-sql.js';
import { openPostgresStore } from '../../src/store/postgres/pg-store.js';
import { freshPgSchema, pgAdminClient, type PgSchema } from '../helpers/postgres.js';
import { session } from './store-contract.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

const ENTRIES = 20_000;
let schema: PgSchema;
let admin: pg.Client;

/** Every scan node of the executed plan of `text` with `values`. */
async function scans(text: string, values: unknown[]): Promise<PlanNode[]> {
  await admin.query('DEALLOCATE ALL');
  await admin.query(`PREPARE q AS ${text}`);
  const literals = values.map((v) => (typeof v === 'number' ? String(v) : `'${String(v)}'`)).join(', ');
  const { rows } = await admin.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE q(${literals})`);
  const found: PlanNode[] = [];
  const walk = (node: PlanNode): void => {
    if (/Scan/.test(node['Node Type'])) found.push(node);
    node.Plans?.forEach(walk);
  };
  walk(rows[0]!['QUERY PLAN'][0].Plan);
  return found;
}

describe('PostgreSQL ledger: reservation statements stay index seeks as the window grows', () => {
  beforeAll(async () => {
    schema = await freshPgSchema('plans');
    const store = await openPostgresStore({ url: schema.url });
    await store.sessions.create(session());
    await store.close();
    admin = await pgAdminClient();
    await admin.query(`SET search_path = ${schema.name}`);
    await admin.query(
      `INSERT INTO ledger_entries (entry_id, session_id, kind, checkpoint_seq, tool, fingerprint, occurrence, epoch, attempt_epoch,
         state, attempt, replica_id, method, path, created_at, updated_at)
       SELECT 'led_' || n, 'ses_a', 'replay', 0, 'billing', 'fp-A', n, 1, 1, 'completed', 'req_' || n, 'rep', 'POST', '/p', n, n
       FROM generate_series(1, ${ENTRIES}) AS n`,
    );
    await admin.query(`INSERT INTO ledger_counters VALUES ('ses_a', 0, 1, 'fp-A', ${ENTRIES})`);
    await admin.query('ANALYZE');
    // Named statements switch to a generic plan after a few executions: check that plan, not a custom one.
    await admin.query('SET plan_cache_mode = force_generic_plan');
  }, 60_000);
  afterAll(async () => {
    await admin?.end();
    await schema?.drop();
  });

  it.each([
    ['lockSession', LQ.lockSession.text, ['ses_a']],
    ['probe (counter, entry at k and last occurrence in one statement)', LQ.probe.text, ['ses_a', 0, 1, 'fp-A']],
    ['selectCounter', LQ.selectCounter.text, ['ses_a', 0, 1, 'fp-A']],
    ['atOccurrence (the last of 20 k)', LQ.atOccurrence.text, ['ses_a', 0, 'fp-A', ENTRIES]],
    ['lastOccurrence', LQ.lastOccurrence.text, ['ses_a', 0, 'fp-A']],
    ['selectKey', LQ.selectKey.text, ['ses_a', 'billing', 'k-1']],
  ] as const)('%s reads at most one row per scan, the ledger by index', async (_name, text, values) => {
    const nodes = await scans(text, [...values]);
    expect(nodes.length).toBeGreaterThan(0);
    for (const node of nodes) {
      // Rows produced plus rows read and thrown away: what the scan cost. (A one-row table may be read
      // sequentially; the ledger, holding 20 k rows, only by index.)
      const read = node['Actual Rows'] * node['Actual Loops'] + (node['Rows Removed by Filter'] ?? 0);
      expect(read, JSON.stringify(node)).toBeLessThanOrEqual(1);
      if (node['Relation Name'] === 'ledger_entries') expect(node['Node Type']).toMatch(/^Index (Only )?Scan/);
    }
  });
});
