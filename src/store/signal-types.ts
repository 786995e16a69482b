// Change signals between the processes that share one store (several replicas on PostgreSQL): "session S
// changed" and "approval A was decided". A signal is only a hint to look again, never a fact to act on:
// whoever receives one re-reads the store, and every waiter keeps polling the store as well, so a lost or
// late signal costs latency, never correctness (the store stays the one source of truth, DESIGN rule 10).
import { z } from 'zod';

export type ChangeNotice =
  /** A session's state or epoch changed (resume, suspend, close, revoke, lease expiry, max_age). */
  | { readonly kind: 'session'; readonly sessionId: string }
  /** An approval left `pending` (approved or denied by a person). */
  | { readonly kind: 'approval'; readonly approvalId: string; readonly sessionId: string };

/** A notice as listeners receive it: `origin` is the id of the replica (process) that published it. */
export type StoreChange = ChangeNotice & { readonly origin: string };

/** Told of every change, local or from another replica (see `origin`); must not throw (errors are caught). */
export type StoreChangeListener = (change: StoreChange) => void;

export interface StoreSignals {
  /** This process's id, stamped on what it publishes (a listener tells its own changes from others'). */
  readonly origin: string;
  /** Tells this process's listeners at once and, where the backend can, every other replica. Never rejects:
   *  a signal that cannot be sent is logged through the implementation's onError (polling covers it). */
  publish(notice: ChangeNotice): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(listener: StoreChangeListener): () => void;
  close(): Promise<void>;
}

/** Identifiers are ours (ses_…, apr_…, rep_…): short, URL-safe; anything else on the wire is dropped. */
const id = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);

const wireChange = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('session'), sessionId: id, origin: id }),
  z.strictObject({ kind: z.literal('approval'), approvalId: id, sessionId: id, origin: id }),
]);

/** Parses a signal received from outside this process; null for anything malformed (never throws). */
export function parseStoreChange(payload: string): StoreChange | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  const parsed = wireChange.safeParse(value);
  return parsed.success ? parsed.data : null;
}
