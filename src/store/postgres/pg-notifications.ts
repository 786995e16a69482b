// The webhook outbox on PostgreSQL (SPEC §18). Every operation is one statement. A claim locks the due,
// unleased rows it takes with FOR UPDATE SKIP LOCKED, so replicas claiming at once take disjoint rows and
// never wait on each other; a settle is conditional on the claim that holds the lease.
import { settledFields } from '../notification-rules.js';
import {
  DELIVERY_STATES,
  type ClaimRequest,
  type DeliveryFilter,
  type DeliveryOutcome,
  type DeliveryRecord,
  type DeliveryState,
  type NewDelivery,
  type NotificationStore,
} from '../notification-types.js';
import { sql, type PgDb } from './pg-db.js';

const COLUMNS = `delivery_id AS "deliveryId", event, url, payload, created_at AS "createdAt", give_up_at AS "giveUpAt",
  state, attempts, next_attempt_at AS "nextAttemptAt", last_status AS "lastStatus", last_error AS "lastError",
  updated_at AS "updatedAt"`;

const Q = {
  // One statement for the whole batch: all rows or none.
  enqueue: sql(
    'notify_enqueue',
    `INSERT INTO notifications (delivery_id, event, url, payload, created_at, give_up_at, state, attempts,
       next_attempt_at, updated_at, lease_until)
     SELECT d, e, u, p, c, g, 'pending', 0, c, c, 0
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) AS t (d, e, u, p, c, g)`,
  ),
  // $1 claim, $2 now, $3 lease ms, $4 limit. The locked rows are picked once, in a materialized CTE: a
  // LIMIT … SKIP LOCKED subquery under IN may be re-run by the plan and then take more than the limit.
  claim: sql(
    'notify_claim',
    `WITH picked AS MATERIALIZED (
       SELECT delivery_id AS picked_id FROM notifications
       WHERE state = 'pending' AND next_attempt_at <= $2 AND lease_until <= $2
       ORDER BY next_attempt_at, delivery_id LIMIT $4
       FOR UPDATE SKIP LOCKED)
     UPDATE notifications SET lease_owner = $1, lease_until = $2 + $3, attempts = attempts + 1, updated_at = $2
     FROM picked WHERE delivery_id = picked_id
     RETURNING ${COLUMNS}`,
  ),
  settle: sql(
    'notify_settle',
    `UPDATE notifications SET state = $3, next_attempt_at = $4, last_status = $5, last_error = $6, updated_at = $7,
       lease_owner = NULL, lease_until = 0
     WHERE delivery_id = $1 AND state = 'pending' AND lease_owner = $2`,
  ),
  get: sql('notify_get', `SELECT ${COLUMNS} FROM notifications WHERE delivery_id = $1`),
  listAll: sql('notify_list_all', `SELECT ${COLUMNS} FROM notifications ORDER BY created_at DESC, delivery_id DESC LIMIT $1`),
  listState: sql(
    'notify_list_state',
    `SELECT ${COLUMNS} FROM notifications WHERE state = $1 ORDER BY created_at DESC, delivery_id DESC LIMIT $2`,
  ),
  counts: sql('notify_counts', 'SELECT state, count(*) AS n FROM notifications GROUP BY state'),
  purge: sql(
    'notify_purge',
    `DELETE FROM notifications WHERE delivery_id IN (
       SELECT delivery_id FROM notifications WHERE state IN ('delivered', 'failed') AND updated_at < $1 LIMIT $2
       FOR UPDATE SKIP LOCKED)`,
  ),
} as const;

export class PgNotifications implements NotificationStore {
  constructor(private readonly db: PgDb) {}

  async enqueue(deliveries: readonly NewDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const column = <K extends keyof NewDelivery>(key: K) => deliveries.map((d) => d[key]);
    await this.db.run(Q.enqueue, [
      column('deliveryId'), column('event'), column('url'), column('payload'), column('createdAt'), column('giveUpAt'),
    ]);
  }

  async claimDue(request: ClaimRequest): Promise<DeliveryRecord[]> {
    const rows = await this.db.rows<DeliveryRecord>(Q.claim, [request.claim, request.now, request.leaseMs, Math.max(0, request.limit)]);
    // RETURNING gives no order guarantee: oldest due first, as the contract says.
    return rows.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || (a.deliveryId < b.deliveryId ? -1 : 1));
  }

  async settle(deliveryId: string, claim: string, outcome: DeliveryOutcome): Promise<boolean> {
    const f = settledFields(outcome);
    return (await this.db.run(Q.settle, [deliveryId, claim, f.state, f.nextAttemptAt, f.lastStatus, f.lastError, f.updatedAt])) === 1;
  }

  async get(deliveryId: string): Promise<DeliveryRecord | null> {
    return (await this.db.one<DeliveryRecord>(Q.get, [deliveryId])) ?? null;
  }

  list(filter: DeliveryFilter): Promise<DeliveryRecord[]> {
    const limit = Math.max(0, filter.limit ?? 100);
    return filter.state === undefined ? this.db.rows<DeliveryRecord>(Q.listAll, [limit]) : this.db.rows<DeliveryRecord>(Q.listState, [filter.state, limit]);
  }

  async countByState(): Promise<Record<DeliveryState, number>> {
    const counts = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryState, number>;
    for (const { state, n } of await this.db.rows<{ state: DeliveryState; n: number }>(Q.counts, [])) counts[state] = n;
    return counts;
  }

  purge(before: number, limit: number): Promise<number> {
    return this.db.run(Q.purge, [before, Math.max(0, limit)]);
  }
}
