// Anchor checks of `epochgate audit verify` (SPEC §13 "Anchors"), fed one record at a time by the
// streaming reader. For each audit.anchor record: the anchor names the record right before it (same chain,
// its sequence and hash), and its JWS verifies with a gateway key and says the same. With the stored
// anchors (`--config`): each chain in the files reaches the newest anchor the store holds for it (else its
// tail was cut), and every chain the store anchored since the files begin is in the files (else a file or
// chain was removed). Memory: one small entry per chain, never per record.
import { compactVerify, decodeProtectedHeader, type CryptoKey, type KeyObject } from 'jose';
import type { StoredAnchor } from '../store/anchor-types.js';
import { ANCHOR_JWS_TYP } from './anchor-jws.js';
import type { Position } from './verify-stream.js';
import { member } from './verify.js';

export type AnchorKeys = ReadonlyMap<string, KeyObject | CryptoKey>;

export type FindingReason = 'anchor_forged' | 'anchor_mismatch' | 'cut_tail' | 'removed_chain';

export interface Finding {
  /** The file (or, for a removed chain, the store) the finding is about. */
  readonly where: string;
  readonly line?: number;
  readonly reason: FindingReason;
  readonly message: string;
}

interface ChainSeen {
  readonly file: string;
  readonly firstTime: number;
  last: { line: number; seq: number; hash: string };
}

export class AnchorCheck {
  readonly findings: Finding[] = [];
  anchors = 0;
  private readonly chains = new Map<string, ChainSeen>();
  /** Sequence each chain's newest stored anchor covers, and what the files hold there (hash and line). */
  private readonly storedSeq = new Map<string, number>();
  private readonly atStoredSeq = new Map<string, { hash: string; line: number }>();

  /** keys undefined: signatures are not checked (no --config or --jwks given). `stored`: the store's
   *  newest anchor per chain, known before the files are read. */
  constructor(
    private readonly keys: AnchorKeys | undefined,
    stored: readonly StoredAnchor[] = [],
  ) {
    for (const anchor of stored) this.storedSeq.set(anchor.chainUid, anchor.sequence);
  }

  /** A record that followed the chain; `before` is the record before it in the same file. */
  async record(file: string, line: number, value: unknown, at: Position, before: Position | undefined): Promise<void> {
    this.noteChain(file, line, value, at);
    const epochgate = member(member(value, 'unmapped'), 'epochgate');
    if (member(epochgate, 'event') !== 'audit.anchor') return;
    this.anchors += 1;
    const anchor = member(epochgate, 'anchor');
    const problem = anchorShapeProblem(anchor, before) ?? (await this.signatureProblem(anchor));
    if (problem !== undefined) this.findings.push({ where: file, line, reason: problem.reason, message: problem.message });
  }

  private noteChain(file: string, line: number, value: unknown, at: Position): void {
    // Remember the record a stored anchor covers: reaching the anchor's sequence is not enough, it must be
    // the same record (records appended after a cut would reach it with another history).
    if (this.storedSeq.get(at.uid) === at.seq) this.atStoredSeq.set(at.uid, { hash: at.hash, line });
    const seen = this.chains.get(at.uid);
    const last = { line, seq: at.seq, hash: at.hash };
    if (seen !== undefined) {
      seen.last = last;
      return;
    }
    const time = member(value, 'time');
    this.chains.set(at.uid, { file, firstTime: typeof time === 'number' ? time : 0, last });
  }

  private async signatureProblem(anchor: unknown): Promise<{ reason: FindingReason; message: string } | undefined> {
    if (this.keys === undefined) return undefined;
    const problem = await jwsProblem(member(anchor, 'jws') as string, this.keys, anchor);
    return problem === undefined ? undefined : { reason: 'anchor_forged', message: problem };
  }

  /** The first record time of the files (0 when no record was read): stored chains anchored since must be in them. */
  get since(): number {
    let min = Infinity;
    for (const chain of this.chains.values()) min = Math.min(min, chain.firstTime);
    return min === Infinity ? 0 : min;
  }

  /** Compares the files with the store's newest anchor per chain (stored anchors made at or after `since`). */
  async compareWithStore(stored: readonly StoredAnchor[], storeName: string): Promise<void> {
    for (const anchor of stored) {
      const forged = this.keys === undefined ? undefined : await jwsProblem(anchor.jws, this.keys, storedAsMember(anchor));
      if (forged !== undefined) {
        this.findings.push({ where: storeName, reason: 'anchor_forged', message: `the stored anchor of chain ${anchor.chainUid} at sequence ${anchor.sequence}: ${forged}` });
        continue;
      }
      const chain = this.chains.get(anchor.chainUid);
      if (chain === undefined) {
        const when = new Date(anchor.createdAt).toISOString();
        this.findings.push({ where: storeName, reason: 'removed_chain', message: `the store holds an anchor of chain ${anchor.chainUid} at sequence ${anchor.sequence} (made ${when}), but no file given has a record of that chain: a file or chain was removed` });
      } else if (chain.last.seq >= anchor.sequence + 1 && this.atStoredSeq.get(anchor.chainUid)?.hash !== anchor.hash) {
        const at = this.atStoredSeq.get(anchor.chainUid);
        this.findings.push({ where: chain.file, ...(at ? { line: at.line } : {}), reason: 'anchor_mismatch', message: `the store's anchor of chain ${anchor.chainUid} names hash ${anchor.hash} at sequence ${anchor.sequence}, but the file has ${at?.hash ?? 'no such record'} there: the chain was rewritten from that point or before` });
      } else if (chain.last.seq < anchor.sequence + 1) {
        // The audit.anchor record is written right after the record it covers, as sequence + 1: cutting only
        // the anchor record is a cut too.
        const missing = `${chain.last.seq + 1}–${anchor.sequence + 1}`;
        this.findings.push({ where: chain.file, line: chain.last.line, reason: 'cut_tail', message: `chain ${anchor.chainUid} ends at sequence ${chain.last.seq} but the store holds an anchor at ${anchor.sequence} (its audit.anchor record is sequence ${anchor.sequence + 1}): records ${missing} at least were cut off` });
      }
    }
  }
}

/** The anchor must name the record right before the anchor record: same chain, its sequence, its hash. */
function anchorShapeProblem(anchor: unknown, before: Position | undefined): { reason: FindingReason; message: string } | undefined {
  const chainUid = member(anchor, 'chain_uid');
  const sequence = member(anchor, 'sequence');
  const hash = member(anchor, 'hash');
  const jws = member(anchor, 'jws');
  if (typeof chainUid !== 'string' || typeof sequence !== 'number' || typeof hash !== 'string' || typeof jws !== 'string') {
    return { reason: 'anchor_mismatch', message: 'unmapped.epochgate.anchor {chain_uid, sequence, hash, jws} is missing or malformed' };
  }
  if (before === undefined || before.uid !== chainUid || before.seq !== sequence || before.hash !== hash) {
    const was = before === undefined ? 'no record' : `chain ${before.uid} sequence ${before.seq} hash ${before.hash}`;
    return { reason: 'anchor_mismatch', message: `the anchor names chain ${chainUid} sequence ${sequence} hash ${hash}, but the record before it is ${was}` };
  }
  return undefined;
}

function storedAsMember(anchor: StoredAnchor): Record<string, unknown> {
  return { chain_uid: anchor.chainUid, sequence: anchor.sequence, hash: anchor.hash };
}

/** Why the JWS does not prove `anchor` (undefined: it does): header, key, signature, then payload. */
async function jwsProblem(jws: string, keys: AnchorKeys, anchor: unknown): Promise<string | undefined> {
  let header;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    return 'the JWS is not a compact JWS';
  }
  if (header.alg !== 'EdDSA' || header.typ !== ANCHOR_JWS_TYP) return `the JWS header is not an epochgate anchor header (alg ${String(header.alg)}, typ ${String(header.typ)})`;
  const key = typeof header.kid === 'string' ? keys.get(header.kid) : undefined;
  if (key === undefined) return `the JWS is signed with key ${JSON.stringify(header.kid)}, which is not a gateway key`;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from((await compactVerify(jws, key, { algorithms: ['EdDSA'] })).payload).toString('utf8'));
  } catch {
    return `the JWS signature does not verify with key ${header.kid}`;
  }
  for (const name of ['chain_uid', 'sequence', 'hash'] as const) {
    if (member(payload, name) !== member(anchor, name)) return `the signed payload's ${name} differs from the anchor's`;
  }
  if (typeof member(payload, 'iat') !== 'number') return 'the signed payload has no iat';
  return undefined;
}
