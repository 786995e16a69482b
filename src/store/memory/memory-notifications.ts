// The webhook outbox in process memory (SPEC §18). Each method does its work synchronously inside the
// store's guard, so a claim and a settle are atomic exactly like the sqlite statements they mirror.
import type { StoreGuard } from '../guard.js';
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
import { settledFields } from '../notification-rules.js';

interface Row {
  record: DeliveryRecord;
  /** The claim holding the lease, or null. */
  claim: string | null;
  leaseUntil: number;
}

export class MemoryNotifications implements NotificationStore {
  private readonly rows = new Map<string, Row>();

  constructor(private readonly guard: StoreGuard) {}

  enqueue(deliveries: readonly NewDelivery[]): Promise<void> {
    return this.guard(() => {
      // All or none, as one sqlite transaction: check every id before inserting any.
      for (const d of deliveries) if (this.rows.has(d.deliveryId)) throw new Error(`duplicate delivery id ${d.deliveryId}`);
      for (const d of deliveries) {
        const record: DeliveryRecord = Object.freeze({
          ...pick(d), state: 'pending', attempts: 0, nextAttemptAt: d.createdAt, lastStatus: null, lastError: null, updatedAt: d.createdAt,
        });
        this.rows.set(d.deliveryId, { record, claim: null, leaseUntil: 0 });
      }
    });
  }

  claimDue(request: ClaimRequest): Promise<DeliveryRecord[]> {
    return this.guard(() => {
      const due = [...this.rows.values()]
        .filter((r) => r.record.state === 'pending' && r.record.nextAttemptAt <= request.now && r.leaseUntil <= request.now)
        .sort((a, b) => a.record.nextAttemptAt - b.record.nextAttemptAt || compare(a.record.deliveryId, b.record.deliveryId))
        .slice(0, Math.max(0, request.limit));
      return due.map((row) => {
        row.claim = request.claim;
        row.leaseUntil = request.now + request.leaseMs;
        row.record = Object.freeze({ ...row.record, attempts: row.record.attempts + 1, updatedAt: request.now });
        return row.record;
      });
    });
  }

  settle(deliveryId: string, claim: string, outcome: DeliveryOutcome): Promise<boolean> {
    return this.guard(() => {
      const row = this.rows.get(deliveryId);
      if (row === undefined || row.record.state !== 'pending' || row.claim !== claim) return false;
      row.claim = null;
      row.leaseUntil = 0;
      row.record = Object.freeze({ ...row.record, ...settledFields(outcome) });
      return true;
    });
  }

  get(deliveryId: string): Promise<DeliveryRecord | null> {
    return this.guard(() => this.rows.get(deliveryId)?.record ?? null);
  }

  list(filter: DeliveryFilter): Promise<DeliveryRecord[]> {
    return this.guard(() =>
      [...this.rows.values()]
        .map((r) => r.record)
        .filter((r) => filter.state === undefined || r.state === filter.state)
        .sort((a, b) => b.createdAt - a.createdAt || compare(b.deliveryId, a.deliveryId))
        .slice(0, Math.max(0, filter.limit ?? 100)),
    );
  }

  countByState(): Promise<Record<DeliveryState, number>> {
    return this.guard(() => {
      const counts = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryState, number>;
      for (const { record } of this.rows.values()) counts[record.state] += 1;
      return counts;
    });
  }

  purge(before: number, limit: number): Promise<number> {
    return this.guard(() => {
      let removed = 0;
      for (const [id, { record }] of this.rows) {
        if (removed >= limit) break;
        if (record.state !== 'pending' && record.updatedAt < before) {
          this.rows.delete(id);
          removed += 1;
        }
      }
      return removed;
    });
  }
}

function pick(d: NewDelivery): NewDelivery {
  return { deliveryId: d.deliveryId, event: d.event, url: d.url, payload: d.payload, createdAt: d.createdAt, giveUpAt: d.giveUpAt };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
