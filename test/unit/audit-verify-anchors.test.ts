// SPEC §13 "Anchors" on the verifying side: a cut tail, a removed chain and forged anchors are reported
// with the line and the reason; an intact set of files with its stored anchors verifies.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnchorKeys } from '../../src/audit/anchor-check.js';
import { HashChain } from '../../src/audit/hash-chain.js';
import { signAnchor } from '../../src/audit/anchor-jws.js';
import { verifyFiles } from '../../src/audit/verify-files.js';
import type { SigningKeys } from '../../src/sessions/signing-keys.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { anchoredLog, editAndReseal, newKeys } from '../helpers/anchored-log.js';

const keyMap = (keys: SigningKeys): AnchorKeys => new Map(keys.jwks().keys.map((k) => [k.kid, keys.publicKeyFor(k.kid)!]));
const linesOf = (path: string) => readFileSync(path, 'utf8').trimEnd().split('\n');
const writeLines = (path: string, lines: string[]) => writeFileSync(path, lines.map((l) => `${l}\n`).join(''));

/** Two chains in two files (one per process start), anchored every 10 records, and their stored anchors. */
async function scenario() {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-verify-anchors-'));
  const keys = await newKeys();
  const store = new MemoryStore().anchors;
  const clock = new ManualClock();
  const files = [join(dir, 'a.log'), join(dir, 'b.log')];
  for (const [i, file] of files.entries()) {
    const log = anchoredLog(file, { keys, chainUid: `chn_${i}`, clock, store, everyRecords: 10 });
    log.calls(25);
    log.audit.anchorNow();
    await log.audit.flush();
    log.audit.close();
  }
  const stored = { name: join(dir, 'epochgate.db'), anchors: await store.newestPerChain(0) };
  return { dir, keys, files, stored };
}

async function run(files: string[], options: { keys?: AnchorKeys; stored?: { name: string; anchors: any[] } }) {
  const out: string[] = [];
  const ok = await verifyFiles(files, { ...options, out: (l) => out.push(l), err: (l) => out.push(l) });
  return { ok, out: out.join('\n') };
}

describe('audit verify: anchors (SPEC §13)', () => {
  it('verifies intact files against their keys and stored anchors', async () => {
    const s = await scenario();
    const result = await run(s.files, { keys: keyMap(s.keys), stored: s.stored });
    expect(result).toEqual({ ok: true, out: `${s.files[0]}: ok: 28 records in 1 chains, 3 anchors\n${s.files[1]}: ok: 28 records in 1 chains, 3 anchors` });
  });

  it('reports a cut tail: the chain ends before the newest stored anchor', async () => {
    const s = await scenario();
    writeLines(s.files[1]!, linesOf(s.files[1]!).slice(0, 20));
    const result = await run(s.files, { keys: keyMap(s.keys), stored: s.stored });
    expect(result.ok).toBe(false);
    expect(result.out).toContain(`${s.files[1]}:20: cut_tail: chain chn_1 ends at sequence 20 but the store holds an anchor at 27 (its audit.anchor record is sequence 28): records 21–28 at least were cut off`);
  });

  it('reports the last 1, 10 and 1,000 records cut from a chain anchored every 1,000 records, naming the missing range', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-verify-cut-'));
    const keys = await newKeys();
    const file = join(dir, 'audit.log');
    const log = anchoredLog(file, { keys, chainUid: 'chn_big' });
    log.calls(2_500);
    log.audit.anchorNow();
    await log.audit.flush();
    const stored = { name: join(dir, 'epochgate.db'), anchors: await log.store.newestPerChain(0) };
    const lines = linesOf(file);
    expect(lines).toHaveLength(2_503);
    for (const cut of [1, 10, 1_000]) {
      writeLines(file, lines.slice(0, -cut));
      const result = await run([file], { keys: keyMap(keys), stored });
      expect(result.ok).toBe(false);
      const end = 2_503 - cut;
      expect(result.out).toContain(`${file}:${end}: cut_tail: chain chn_big ends at sequence ${end} but the store holds an anchor at 2502 (its audit.anchor record is sequence 2503): records ${end + 1}–2503 at least were cut off`);
    }
  });

  it('reports a cut tail refilled with fabricated records (the chain recomputed, no key needed) against the stored anchor', async () => {
    const s = await scenario();
    const kept = linesOf(s.files[1]!).slice(0, 20);
    const chain = new HashChain('chn_1', JSON.parse(kept[19]!).unmapped.epochgate.chain.hash);
    for (let seq = 21; seq <= 30; seq++) {
      const record = JSON.parse(kept[1]!);
      record.metadata.sequence = seq;
      delete record.unmapped.epochgate.chain;
      const sealed = chain.seal(record);
      chain.advance(sealed);
      kept.push(sealed.line);
    }
    writeLines(s.files[1]!, kept);
    const result = await run(s.files, { keys: keyMap(s.keys), stored: s.stored });
    expect(result.ok).toBe(false);
    expect(result.out).toMatch(new RegExp(`${s.files[1]}:27: anchor_mismatch: the store's anchor of chain chn_1 names hash [0-9a-f]{64} at sequence 27, but the file has [0-9a-f]{64} there`));
  });

  it('reports a cut of the last line alone (the stop anchor record itself)', async () => {
    const s = await scenario();
    writeLines(s.files[1]!, linesOf(s.files[1]!).slice(0, -1));
    const result = await run(s.files, { keys: keyMap(s.keys), stored: s.stored });
    expect(result.out).toContain(`${s.files[1]}:27: cut_tail: chain chn_1 ends at sequence 27 but the store holds an anchor at 27`);
  });

  it('reports a removed chain: the store anchored a chain that no file given holds', async () => {
    const s = await scenario();
    const result = await run([s.files[0]!], { keys: keyMap(s.keys), stored: s.stored });
    expect(result.ok).toBe(false);
    expect(result.out).toMatch(new RegExp(`${s.stored.name}: removed_chain: the store holds an anchor of chain chn_1 at sequence 27`));
  });

  it('does not expect chains anchored before the first record of the files given', async () => {
    const s = await scenario();
    expect((await run([s.files[1]!], { keys: keyMap(s.keys), stored: s.stored })).ok).toBe(true);
  });

  it('reports an anchor signed with a key that is not a gateway key', async () => {
    const s = await scenario();
    const foreign = await newKeys();
    const lines = editAndReseal(linesOf(s.files[0]!), 10, (r) => {
      const { chain_uid, sequence, hash } = r.unmapped.epochgate.anchor;
      r.unmapped.epochgate.anchor.jws = signAnchor({ chain_uid, sequence, hash, iat: 1 }, foreign.signingKey);
    });
    writeLines(s.files[0]!, lines);
    const result = await run([s.files[0]!], { keys: keyMap(s.keys) });
    expect(result.out).toContain(`${s.files[0]}:11: anchor_forged: the JWS is signed with key "${foreign.signingKey.kid}", which is not a gateway key`);
  });

  it('reports an edited signed payload and an edited anchor hash', async () => {
    const s = await scenario();
    const original = linesOf(s.files[0]!);
    const payloadEdited = editAndReseal(original, 10, (r) => {
      const [h, , sig] = (r.unmapped.epochgate.anchor.jws as string).split('.');
      const forged = Buffer.from(JSON.stringify({ chain_uid: 'chn_0', sequence: 10, hash: r.unmapped.epochgate.anchor.hash, iat: 2 })).toString('base64url');
      r.unmapped.epochgate.anchor.jws = `${h}.${forged}.${sig}`;
    });
    writeLines(s.files[0]!, payloadEdited);
    expect((await run([s.files[0]!], { keys: keyMap(s.keys) })).out).toContain(':11: anchor_forged: the JWS signature does not verify');
    const hashEdited = editAndReseal(original, 10, (r) => (r.unmapped.epochgate.anchor.hash = 'f'.repeat(64)));
    writeLines(s.files[0]!, hashEdited);
    expect((await run([s.files[0]!], { keys: keyMap(s.keys) })).out).toContain(':11: anchor_mismatch: the anchor names chain chn_0 sequence 10 hash ffff');
  });

  it('reports a record edited just before an anchor (chain recomputed): the anchor no longer names it', async () => {
    const s = await scenario();
    writeLines(s.files[0]!, editAndReseal(linesOf(s.files[0]!), 9, (r) => (r.http_request.url.path = '/elsewhere')));
    const result = await run([s.files[0]!], { keys: keyMap(s.keys) });
    expect(result.ok).toBe(false);
    expect(result.out).toContain(':11: anchor_mismatch:');
  });

  it('reports a forged stored anchor instead of trusting it', async () => {
    const s = await scenario();
    const foreign = await newKeys();
    const forged = s.stored.anchors.map((a) => (a.chainUid === 'chn_1' ? { ...a, sequence: 99, jws: signAnchor({ chain_uid: 'chn_1', sequence: 99, hash: a.hash, iat: 1 }, foreign.signingKey) } : a));
    const result = await run(s.files, { keys: keyMap(s.keys), stored: { ...s.stored, anchors: forged } });
    expect(result.out).toContain(`${s.stored.name}: anchor_forged: the stored anchor of chain chn_1 at sequence 99`);
    expect(result.out).not.toContain('cut_tail');
  });
});
