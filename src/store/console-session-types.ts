// Console sign-in sessions (the approver web console) as every Store backend keeps them. They live in the
// store, not in process memory, so several replicas behind a round-robin load balancer share them.
// Only the SHA-256 of the cookie value is stored: a copy of the database does not let anyone sign in.
// Every change is one conditional write (DESIGN rule 10): an idle session that lapsed cannot be revived
// by a late request, whichever replica it reaches.

export interface NewConsoleSession {
  /** Lowercase hex SHA-256 of the cookie value (the cookie value itself is never stored). */
  readonly idHash: string;
  /** The person (policy `people` id) who signed in. */
  readonly personId: string;
  /** SHA-256 over the person's credential digests at sign-in (console-auth.ts): a session ends when the
   *  policy changes that person's credentials (a rotated or removed secret signs them out). */
  readonly credentialTag: string;
  readonly createdAt: number;
  /** Idle deadline: the session ends at this instant unless a request renews it first. */
  readonly expiresAt: number;
}

export interface ConsoleSessionRecord extends NewConsoleSession {
  readonly lastSeenAt: number;
}

export interface ConsoleSessionStore {
  /** Inserts a new session (lastSeenAt = createdAt). A duplicate idHash is a backend failure. */
  create(session: NewConsoleSession): Promise<void>;
  /** Iff the session exists and expiresAt > now: sets lastSeenAt = now and expiresAt, returns the record
   *  as updated. Null otherwise (unknown, signed out, or idle too long). One conditional write. */
  touch(idHash: string, now: number, expiresAt: number): Promise<ConsoleSessionRecord | null>;
  /** The session iff it exists and expiresAt > now, without renewing it (a live inbox checking that its
   *  person is still signed in must not keep the session alive by itself). One primary-key read. */
  find(idHash: string, now: number): Promise<ConsoleSessionRecord | null>;
  /** Removes the session (sign-out); true when it existed. */
  delete(idHash: string): Promise<boolean>;
  /** Removes every session whose expiresAt ≤ now; returns how many. Idempotent, safe on every replica. */
  purgeExpired(now: number): Promise<number>;
}
