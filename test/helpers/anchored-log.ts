// A real audit file written through the gateway's own writer, guard and anchorer, with a manual clock and
// no timer, so tests drive the anchor cadence by hand (DESIGN rule 8: no sleeps).
import { pino } from 'pino';
import { guardAuditLog } from '../../src/audit/audit-guard.js';
import { anchorAuditStream, type AnchoredAuditStream } from '../../src/audit/anchors.js';
import { openAuditLog } from '../../src/audit/file-audit-log.js';
import { HashChain } from '../../src/audit/hash-chain.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { generateSigningJwk, signingKeysFrom, type SigningKeys } from '../../src/sessions/signing-keys.js';
import type { AnchorStore } from '../../src/store/anchor-types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ManualClock } from '../../src/util/clock.js';

export async function newKeys(clock = new ManualClock()): Promise<SigningKeys> {
  return signingKeysFrom([await generateSigningJwk(clock)], 'test');
}

export interface AnchoredLog {
  readonly audit: AnchoredAuditStream;
  readonly clock: ManualClock;
  readonly store: AnchorStore;
  /** Writes n tool.call records, one ms apart. */
  calls(n: number): void;
}

let uids = 0;

export function anchoredLog(path: string, options: { keys: SigningKeys; chainUid: string; clock?: ManualClock; store?: AnchorStore; everyRecords?: number }): AnchoredLog {
  const clock = options.clock ?? new ManualClock();
  const store = options.store ?? new MemoryStore().anchors;
  const logger = pino({ level: 'silent' });
  const written = openAuditLog({ path, productVersion: '0.1.0', chainUid: options.chainUid, eventUid: () => `evt_${String(++uids).padStart(8, '0')}` });
  const audit = anchorAuditStream(guardAuditLog(written, { clock, logger }), {
    clock, logger, store, timer: false, signingKey: () => options.keys.signingKey, head: () => written.head?.(),
    ...(options.everyRecords !== undefined ? { everyRecords: options.everyRecords } : {}),
  });
  const call = (): AuditEvent => ({ event: 'tool.call', time: clock.now(), status: 'ok', method: 'GET', path: '/p', actor: { id: 'bot', type: 'agent' } });
  return {
    audit, clock, store,
    calls(n: number): void {
      for (let i = 0; i < n; i++) {
        audit.write(call());
        clock.advance(1);
      }
    },
  };
}

/** What a forger can do without any key: edit line `index` and recompute every chain hash from there on. */
export function editAndReseal(lines: string[], index: number, edit: (record: Record<string, any>) => void): string[] {
  const out = lines.slice(0, index);
  const prevOf = (line: string) => JSON.parse(line).unmapped.epochgate.chain.prev_hash as string;
  let chain: HashChain | undefined;
  for (let i = index; i < lines.length; i++) {
    const record = JSON.parse(lines[i]!) as Record<string, any>;
    const { uid } = record.unmapped.epochgate.chain;
    if (chain === undefined || chain.uid !== uid) chain = new HashChain(uid, i === index ? prevOf(lines[i]!) : chain?.previousHash ?? prevOf(lines[i]!));
    if (i === index) edit(record);
    delete record.unmapped.epochgate.chain;
    const sealed = chain.seal(record);
    chain.advance(sealed);
    out.push(sealed.line);
  }
  return out;
}
