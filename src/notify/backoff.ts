// The retry schedule of a webhook delivery (SPEC §18: "retried with backoff for 24 h"). Exponential from
// 10 s, doubling to at most 1 h, each delay jittered by ±20 % so deliveries that failed together (a receiver
// outage) do not all come back in the same second. The last attempt is made at the 24 h mark; one that
// fails then gives up.
export const RETRY_WINDOW_MS = 24 * 3_600_000;
export const FIRST_RETRY_MS = 10_000;
export const MAX_RETRY_MS = 3_600_000;
const JITTER = 0.2;

/** Delay before the next attempt after `attempts` failed ones (1, 2, …); `random` is in [0, 1). */
export function retryDelayMs(attempts: number, random: () => number): number {
  const exponent = Math.min(Math.max(attempts, 1) - 1, 30);
  const base = Math.min(FIRST_RETRY_MS * 2 ** exponent, MAX_RETRY_MS);
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}

export type AfterFailure = { readonly kind: 'retry'; readonly nextAttemptAt: number } | { readonly kind: 'failed' };

/** What follows a failed attempt made at `now`: another one (never later than giveUpAt), or giving up. */
export function afterFailure(delivery: { readonly attempts: number; readonly giveUpAt: number }, now: number, random: () => number): AfterFailure {
  if (now >= delivery.giveUpAt) return { kind: 'failed' };
  return { kind: 'retry', nextAttemptAt: Math.min(now + retryDelayMs(delivery.attempts, random), delivery.giveUpAt) };
}
