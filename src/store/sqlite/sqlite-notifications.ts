// The webhook outbox in SQLite (SPEC §18). Statements are prepared once (sqlite-prepare.ts). A claim is one
// UPDATE … WHERE delivery_id IN (SELECT … due and unleased LIMIT n) RETURNING, and a settle is one UPDATE
// conditional on the claim, so processes sharing the file never both attempt or both settle a delivery.
// (PostgreSQL: the same statements, the inner SELECT with FOR UPDATE SKIP LOCKED.)
import type Database from 'better-sqlite3';
import type { StoreGuard } from '../guard.js';
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
import { prepareStatements, sql, type Statements } from './sqlite-prepare.js';

const COLUMNS = `delivery_id AS deliveryId, event, url, payload, created_at AS createdAt, give_up_at AS giveUpAt,
  state, attempts, next_attempt_at AS nextAttemptAt, last_status AS lastStatus, last_error AS lastError,
  updated_at AS updatedAt`;

const Q = {
  insert: sql<[NewDelivery]>(
    `INSERT INTO notifications (delivery_id, event, url, payload, created_at, give_up_at, state, attempts,
       next_attempt_at, updated_at, lease_until)
     VALUES (@deliveryId, @event, @url, @payload, @createdAt, @giveUpAt, 'pending', 0, @createdAt, @createdAt, 0)`,
  ),
  claim: sql<[ClaimParams], DeliveryRecord>(
    `UPDATE notifications SET lease_owner = @claim, lease_until = @now + @lease_ms, attempts = attempts + 1, updated_at = @now
     WHERE delivery_id IN (
       SELECT delivery_id FROM notifications
       WHERE state = 'pending' AND next_attempt_at <= @now AND lease_until <= @now
       ORDER BY next_attempt_at, delivery_id LIMIT @limit)
     RETURNING ${COLUMNS}`,
  ),
  settleOne: sql<[SettleParams]>(
    `UPDATE notifications SET state = @state, next_attempt_at = @nextAttemptAt, last_status = @lastStatus,
       last_error = @lastError, updated_at = @updatedAt, lease_owner = NULL, lease_until = 0
     WHERE delivery_id = @deliveryId AND state = 'pending' AND lease_owner = @claim`,
  ),
  selectOne: sql<[string], DeliveryRecord>(`SELECT ${COLUMNS} FROM notifications WHERE delivery_id = ?`),
  listAll: sql<[number], DeliveryRecord>(
    `SELECT ${COLUMNS} FROM notifications ORDER BY created_at DESC, delivery_id DESC LIMIT ?`,
  ),
  listState: sql<[string, number], DeliveryRecord>(
    `SELECT ${COLUMNS} FROM notifications WHERE state = ? ORDER BY created_at DESC, delivery_id DESC LIMIT ?`,
  ),
  counts: sql<[], { state: DeliveryState; n: number }>('SELECT state, count(*) AS n FROM notifications GROUP BY state'),
  purgeSome: sql<[number, number]>(
    `DELETE FROM notifications WHERE delivery_id IN (
       SELECT delivery_id FROM notifications WHERE state IN ('delivered', 'failed') AND updated_at < ? LIMIT ?)`,
  ),
} as const;

export class SqliteNotifications implements NotificationStore {
  private readonly sql: Statements<typeof Q>;
  private readonly insertTx: Database.Transaction<(deliveries: readonly NewDelivery[]) => void>;

  constructor(db: Database.Database, private readonly guard: StoreGuard) {
    const q = prepareStatements(db, Q);
    this.sql = q;
    this.insertTx = db.transaction((deliveries: readonly NewDelivery[]) => {
      for (const d of deliveries) q.insert.run(pick(d));
    });
  }

  enqueue(deliveries: readonly NewDelivery[]): Promise<void> {
    return this.guard(() => this.insertTx.immediate(deliveries));
  }

  claimDue(request: ClaimRequest): Promise<DeliveryRecord[]> {
    return this.guard(() =>
      this.sql.claim.all({ claim: request.claim, now: request.now, lease_ms: request.leaseMs, limit: Math.max(0, request.limit) })
        // RETURNING gives no order guarantee: oldest due first, as the contract says.
        .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || (a.deliveryId < b.deliveryId ? -1 : 1)),
    );
  }

  settle(deliveryId: string, claim: string, outcome: DeliveryOutcome): Promise<boolean> {
    return this.guard(() => this.sql.settleOne.run({ deliveryId, claim, ...settledFields(outcome) }).changes === 1);
  }

  get(deliveryId: string): Promise<DeliveryRecord | null> {
    return this.guard(() => this.sql.selectOne.get(deliveryId) ?? null);
  }

  list(filter: DeliveryFilter): Promise<DeliveryRecord[]> {
    const limit = Math.max(0, filter.limit ?? 100);
    return this.guard(() => (filter.state === undefined ? this.sql.listAll.all(limit) : this.sql.listState.all(filter.state, limit)));
  }

  countByState(): Promise<Record<DeliveryState, number>> {
    return this.guard(() => {
      const counts = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryState, number>;
      for (const { state, n } of this.sql.counts.all()) counts[state] = n;
      return counts;
    });
  }

  purge(before: number, limit: number): Promise<number> {
    return this.guard(() => this.sql.purgeSome.run(before, Math.max(0, limit)).changes);
  }
}

interface ClaimParams {
  readonly claim: string;
  readonly now: number;
  readonly lease_ms: number;
  readonly limit: number;
}

type SettleParams = { readonly deliveryId: string; readonly claim: string } & ReturnType<typeof settledFields>;

function pick(d: NewDelivery): NewDelivery {
  return { deliveryId: d.deliveryId, event: d.event, url: d.url, payload: d.payload, createdAt: d.createdAt, giveUpAt: d.giveUpAt };
}
