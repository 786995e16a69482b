// Anchors (SPEC §13): a hash chain alone cannot show that its last records were cut off, so the gateway
// regularly writes an audit.anchor record carrying a signed {chain_uid, sequence, hash} of the record
// before it, and stores the same anchor outside the audit file. `audit verify --config` then knows how far
// each chain had reached at least.
//
// Cadence: every `everyRecords` records (1,000), every `everyMs` (60 s) when any record was written since
// the last anchor, and at stop. The hot path pays one counter increment and one comparison per record.
// Owns its errors (DESIGN rule 15): an anchor that cannot be signed or stored is logged, never thrown into a
// request or out of the timer; an anchor record that cannot be written is already handled by the
// fail-closed guard underneath (audit_unavailable, retries) and is only logged here.
import type { Logger } from 'pino';
import type { AnchorStore, StoredAnchor } from '../store/anchor-types.js';
import type { Clock } from '../util/clock.js';
import { signAnchor, type AnchorSigningKey } from './anchor-jws.js';
import { SYSTEM_ACTOR } from './envelope.js';
import type { AuditEvent, AuditStream, ChainHead } from './types.js';

export const ANCHOR_EVERY_RECORDS = 1_000;
export const ANCHOR_EVERY_MS = 60_000;
/** How often the timer looks at the clock; the 60 s cadence is measured with the injected clock. */
const CHECK_MS = 1_000;

export interface AnchorOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The key that signs tokens now (SPEC §6: the newest key signs); its kid is in the JWKS. */
  readonly signingKey: () => AnchorSigningKey;
  readonly store: AnchorStore;
  /** The chain's last written record, read synchronously just before the anchor record is written. */
  readonly head: () => ChainHead | undefined;
  readonly everyRecords?: number;
  readonly everyMs?: number;
  /** false: no timer (tests drive `tick()` with a manual clock). */
  readonly timer?: boolean;
}

export interface AnchoredAuditStream extends AuditStream {
  /** Anchors now if any record was written since the last anchor (stop calls it after gateway.stop). */
  anchorNow(): void;
  /** The time-based cadence: anchors when `everyMs` has passed and there was traffic. The timer calls it. */
  tick(): void;
  /** Resolves once every anchor handed to the store was stored or failed (before the store closes). */
  flush(): Promise<void>;
}

export function anchorAuditStream(inner: AuditStream, options: AnchorOptions): AnchoredAuditStream {
  const everyRecords = options.everyRecords ?? ANCHOR_EVERY_RECORDS;
  const everyMs = options.everyMs ?? ANCHOR_EVERY_MS;
  const { clock } = options;
  const pending = new Set<Promise<void>>();
  let sinceAnchor = 0;
  let lastAnchorAt = clock.now();

  const anchorNow = (): void => {
    if (sinceAnchor === 0) return;
    const anchored = anchorOnce(inner, options, pending);
    if (anchored === undefined) return;
    sinceAnchor = 0;
    lastAnchorAt = anchored.createdAt;
  };
  const tick = (): void => {
    if (sinceAnchor > 0 && clock.now() - lastAnchorAt >= everyMs) anchorNow();
  };
  const timer = options.timer === false ? undefined : startTimer(tick, Math.min(CHECK_MS, everyMs), options.logger);

  return {
    write(event: AuditEvent): void {
      inner.write(event);
      if (++sinceAnchor >= everyRecords) anchorNow();
    },
    close(): void {
      if (timer) clearInterval(timer);
      inner.close();
    },
    isAvailable: () => inner.isAvailable(),
    countRefused: () => inner.countRefused(),
    head: () => options.head(),
    anchorNow,
    tick,
    flush: async () => {
      await Promise.all([...pending]);
    },
  };
}

/** An unref()-ed interval (it never keeps the process alive) whose errors stay in it (DESIGN rule 15). */
function startTimer(tick: () => void, everyMs: number, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    try {
      tick();
    } catch (err) {
      logger.error({ err }, 'audit anchor timer failed');
    }
  }, everyMs);
  timer.unref();
  return timer;
}

/** Writes one anchor and hands it to the store (tracked in `pending`); undefined when nothing was written. */
function anchorOnce(inner: AuditStream, options: AnchorOptions, pending: Set<Promise<void>>): StoredAnchor | undefined {
  let anchored: StoredAnchor | undefined;
  try {
    anchored = writeAnchor(inner, options);
  } catch (err) {
    // A failed write has already turned the stream unavailable (audit-guard.ts); the next cadence retries.
    options.logger.error({ err }, 'audit anchor could not be written');
    return undefined;
  }
  if (anchored === undefined) return undefined;
  const { chainUid, sequence } = anchored;
  // Promise.resolve().then: a store that throws instead of rejecting still ends up in the catch.
  const stored = Promise.resolve()
    .then(() => options.store.put(anchored))
    .catch((err: unknown) => {
      options.logger.error({ err, chain_uid: chainUid, sequence }, 'audit anchor could not be stored');
    });
  pending.add(stored);
  void stored.finally(() => pending.delete(stored));
  return anchored;
}

/** Signs the chain head and writes the audit.anchor record right after it; undefined when there is no head. */
function writeAnchor(inner: AuditStream, options: AnchorOptions): StoredAnchor | undefined {
  const head = options.head();
  if (head === undefined) return undefined;
  const createdAt = options.clock.now();
  const jws = signAnchor({ chain_uid: head.chainUid, sequence: head.sequence, hash: head.hash, iat: Math.floor(createdAt / 1000) }, options.signingKey());
  const anchor = { chain_uid: head.chainUid, sequence: head.sequence, hash: head.hash, jws };
  inner.write({ event: 'audit.anchor', time: createdAt, status: 'ok', actor: SYSTEM_ACTOR, extra: { anchor } });
  return { chainUid: head.chainUid, sequence: head.sequence, hash: head.hash, jws, createdAt };
}
