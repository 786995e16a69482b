// What a settle writes, read the same way by every backend (so memory and sqlite cannot drift apart).
import type { DeliveryOutcome, DeliveryRecord } from './notification-types.js';

/** The fields a settle writes. */
export function settledFields(outcome: DeliveryOutcome): Pick<DeliveryRecord, 'state' | 'nextAttemptAt' | 'lastStatus' | 'lastError' | 'updatedAt'> {
  switch (outcome.kind) {
    case 'delivered':
      return { state: 'delivered', nextAttemptAt: outcome.now, lastStatus: outcome.status, lastError: null, updatedAt: outcome.now };
    case 'retry':
      return { state: 'pending', nextAttemptAt: outcome.nextAttemptAt, lastStatus: outcome.status, lastError: outcome.error, updatedAt: outcome.now };
    case 'failed':
      return { state: 'failed', nextAttemptAt: outcome.now, lastStatus: outcome.status, lastError: outcome.error, updatedAt: outcome.now };
  }
}

