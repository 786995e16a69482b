// Signing people in to the console and recognising them on later requests. The session is a record in the
// store keyed by the SHA-256 of a random cookie value (so several replicas share it and a copy of the
// database signs nobody in), with a 30-minute idle timeout renewed by one conditional write per request.
// The person's roles are read from the CURRENT policy on every request: a person removed from the policy,
// or whose credentials changed (a rotated or removed secret), is signed out at their next click, and a
// role taken away stops applying at once.
//
// CSRF: every state-changing form carries a token derived from the session's cookie value by HMAC; a
// page from another origin can neither read the cookie nor compute the token. The sign-in form (no
// session yet) uses the same scheme keyed by a short-lived pre-sign-in cookie.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../errors/gateway-error.js';
import type { PersonDef, PolicySnapshot } from '../policy/types.js';
import { authenticatePerson } from '../sessions/person-auth.js';
import type { ConsoleSessionRecord } from '../store/console-session-types.js';
import type { Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import { sha256Hex } from '../util/hash.js';

/** Idle timeout of a console session. */
export const CONSOLE_IDLE_MS = 30 * 60_000;

export interface ConsoleAuthDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly policy: { current(): PolicySnapshot };
}

export interface SignedIn {
  readonly person: PersonDef;
  /** The cookie value (kept only in memory for this request: it keys the CSRF token). */
  readonly cookie: string;
  readonly csrf: string;
}

/** 256 random bits, base64url: a cookie value or a pre-sign-in key. */
export const newCookieValue = (): string => randomBytes(32).toString('base64url');

/** The CSRF token of forms shown under this cookie value. */
export function csrfTokenFor(cookie: string): string {
  return createHmac('sha256', cookie).update('epochgate console csrf v1').digest('base64url');
}

/** Constant-time check of a presented CSRF token; false for anything missing or malformed. */
export function csrfMatches(cookie: string | undefined, presented: unknown): boolean {
  if (cookie === undefined || typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(cookie));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export class ConsoleAuth {
  constructor(private readonly deps: ConsoleAuthDeps) {}

  /** Checks id and secret against the current policy; on success stores a new session. The secret is
   *  never echoed: every failure is the same credential_invalid. */
  async signIn(personId: string, secret: string): Promise<SignedIn> {
    const person = this.verify(personId, secret);
    const cookie = newCookieValue();
    const now = this.deps.clock.now();
    await this.deps.store.consoleSessions.create({
      idHash: sha256Hex(cookie), personId: person.id, credentialTag: credentialTag(person), createdAt: now, expiresAt: now + CONSOLE_IDLE_MS,
    });
    return { person, cookie, csrf: csrfTokenFor(cookie) };
  }

  /** The signed-in person for this cookie value, renewing the idle deadline; null when there is none. */
  async resolve(cookie: string | undefined): Promise<SignedIn | null> {
    if (cookie === undefined) return null;
    const idHash = sha256Hex(cookie);
    const now = this.deps.clock.now();
    const session = await this.deps.store.consoleSessions.touch(idHash, now, now + CONSOLE_IDLE_MS);
    if (session === null) return null;
    const person = this.personOf(session);
    if (person === undefined) {
      await this.deps.store.consoleSessions.delete(idHash);
      return null;
    }
    return { person, cookie, csrf: csrfTokenFor(cookie) };
  }

  /** The session's person under the current policy, unless they are gone or their credentials changed. */
  personOf(session: ConsoleSessionRecord): PersonDef | undefined {
    const person = this.deps.policy.current().people.get(session.personId);
    return person !== undefined && credentialTag(person) === session.credentialTag ? person : undefined;
  }

  async signOut(cookie: string): Promise<void> {
    await this.deps.store.consoleSessions.delete(sha256Hex(cookie));
  }

  /** Removes lapsed sessions (the periodic sweep). */
  purge(): Promise<number> {
    return this.deps.store.consoleSessions.purgeExpired(this.deps.clock.now());
  }

  private verify(personId: string, secret: string): PersonDef {
    let person: PersonDef;
    try {
      // The same check as the control plane's `Authorization: Bearer <secret>` (constant time, every secret).
      person = authenticatePerson(this.deps.policy.current(), `Bearer ${secret}`);
    } catch (err) {
      if (err instanceof GatewayError && err.code !== 'store_unavailable') throw invalidSignIn();
      throw err;
    }
    // The secret must be this person's: a valid secret of someone else signs nobody in.
    if (person.id !== personId) throw invalidSignIn();
    return person;
  }
}

/** A digest of the person's credential digests as the policy holds them now (order-independent). */
export function credentialTag(person: PersonDef): string {
  return sha256Hex([...person.secretSha256].sort().join('\n'));
}

function invalidSignIn(): GatewayError {
  return new GatewayError('credential_invalid', { detail: 'The person id or secret is not correct' });
}
