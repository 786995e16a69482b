// Response shape of GET /v1/notifications (SPEC §7, §18): the delivery, never its payload; the URL without
// credentials or query (a receiver may keep its own secret there).
import type { DeliveryRecord } from '../store/notification-types.js';
import { rfc3339 } from '../util/clock.js';

export function deliveryView(delivery: DeliveryRecord): Record<string, unknown> {
  return {
    delivery_id: delivery.deliveryId,
    event: delivery.event,
    url: displayUrl(delivery.url),
    state: delivery.state,
    attempts: delivery.attempts,
    next_attempt_at: delivery.state === 'pending' ? rfc3339(delivery.nextAttemptAt) : null,
    last_status: delivery.lastStatus,
    last_error: delivery.lastError,
    created_at: rfc3339(delivery.createdAt),
    updated_at: rfc3339(delivery.updatedAt),
  };
}

/** scheme://host[:port]/path: no userinfo, query or fragment. */
export function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '[invalid]';
  }
}
