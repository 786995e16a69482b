// The webhook outbox (SPEC §18 "Notifications") as every Store backend keeps it. A delivery is written once
// when its event happens and then only moved by conditional writes (DESIGN rule 10), so several gateway
// processes sharing one database can run their delivery workers side by side:
//
//   claimDue  — pending, due and not leased → leased by one claim (attempts + 1), atomically;
//   settle    — only by the claim that holds the lease: delivered, failed, or pending again with a later
//               next attempt. A process that dies mid-attempt leaves a lease that simply runs out.
//
// Nothing here holds a webhook secret: the secret stays in the operator config and signs at send time.

export type DeliveryState = 'pending' | 'delivered' | 'failed';
export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'delivered', 'failed'];

export interface NewDelivery {
  /** Sent as X-Epochgate-Delivery; the same on every retry. */
  readonly deliveryId: string;
  /** The event name (X-Epochgate-Event), e.g. approval.request. */
  readonly event: string;
  /** The configured webhook URL the delivery goes to (it names the webhook; the secret is looked up by it). */
  readonly url: string;
  /** The exact JSON body to POST (already in the webhook's format). */
  readonly payload: string;
  readonly createdAt: number;
  /** No attempt after this: the first failed attempt at or after it marks the delivery failed. */
  readonly giveUpAt: number;
}

export interface DeliveryRecord extends NewDelivery {
  readonly state: DeliveryState;
  /** Attempts started (a claim counts as an attempt, even if its process died before settling it). */
  readonly attempts: number;
  /** When the next attempt is due (pending), else when the delivery was settled. */
  readonly nextAttemptAt: number;
  /** HTTP status of the last attempt, or null (no answer). */
  readonly lastStatus: number | null;
  /** Why the last attempt did not deliver (an error code or a short reason; never a secret), or null. */
  readonly lastError: string | null;
  readonly updatedAt: number;
}

export interface ClaimRequest {
  /** Unique per claim: only this value can settle what the claim took. */
  readonly claim: string;
  readonly now: number;
  /** The lease ends at now + leaseMs; after that another claim may take the delivery again. */
  readonly leaseMs: number;
  readonly limit: number;
}

export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly status: number; readonly now: number }
  | { readonly kind: 'retry'; readonly status: number | null; readonly error: string; readonly nextAttemptAt: number; readonly now: number }
  | { readonly kind: 'failed'; readonly status: number | null; readonly error: string; readonly now: number };

export interface DeliveryFilter {
  readonly state?: DeliveryState;
  readonly limit?: number;
}

export interface NotificationStore {
  /** Inserts the deliveries as pending, due at once, all or none (one transaction). */
  enqueue(deliveries: readonly NewDelivery[]): Promise<void>;
  /** Leases up to `limit` pending deliveries due at `now` whose lease (if any) has ended, oldest due first;
   *  attempts + 1 each. A delivery leased by one claim is not returned to another until its lease ends. */
  claimDue(request: ClaimRequest): Promise<DeliveryRecord[]>;
  /** Settles a claimed delivery iff it is still pending and leased by `claim`; false otherwise (the lease ran
   *  out and another claim took it, or it was settled already). Clears the lease. */
  settle(deliveryId: string, claim: string, outcome: DeliveryOutcome): Promise<boolean>;
  get(deliveryId: string): Promise<DeliveryRecord | null>;
  /** Newest first (created_at, then id); limit default 100. */
  list(filter: DeliveryFilter): Promise<DeliveryRecord[]>;
  countByState(): Promise<Record<DeliveryState, number>>;
  /** Deletes up to `limit` delivered or failed deliveries last updated before `before`; returns how many. */
  purge(before: number, limit: number): Promise<number>;
}
