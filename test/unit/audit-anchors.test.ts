// SPEC §13 "Anchors": the cadence (1,000 records, 60 s with traffic, at stop), what an anchor says, its
// signature, and that a failing store or stream never throws out of the anchorer.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { anchorAuditStream } from '../../src/audit/anchors.js';
import type { AuditStream } from '../../src/audit/types.js';
import { pino } from 'pino';
import { ManualClock } from '../../src/util/clock.js';
import { anchoredLog, newKeys } from '../helpers/anchored-log.js';

const records = (path: string) => readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
const anchorsIn = (path: string) => records(path).filter((r) => r.unmapped.epochgate.event === 'audit.anchor');
const fresh = () => join(mkdtempSync(join(tmpdir(), 'epochgate-anchors-')), 'audit.log');

describe('audit anchors (SPEC §13)', () => {
  it('anchors every 1,000 records, naming the sequence and hash of the record right before the anchor', async () => {
    const path = fresh();
    const log = anchoredLog(path, { keys: await newKeys(), chainUid: 'chn_a' });
    log.calls(2_500);
    const all = records(path);
    const anchors = anchorsIn(path);
    expect(anchors.map((a) => a.metadata.sequence)).toEqual([1_001, 2_002]);
    for (const a of anchors) {
      const before = all[a.metadata.sequence - 2]!;
      expect(a.unmapped.epochgate.anchor).toMatchObject({ chain_uid: 'chn_a', sequence: before.metadata.sequence, hash: before.unmapped.epochgate.chain.hash });
    }
    await log.audit.flush();
    expect(await log.store.newest('chn_a')).toMatchObject({ sequence: 2_001, hash: all[2_000]!.unmapped.epochgate.chain.hash, jws: anchors[1]!.unmapped.epochgate.anchor.jws });
  });

  it('anchors after 60 s only when there was traffic since the last anchor', async () => {
    const path = fresh();
    const log = anchoredLog(path, { keys: await newKeys(), chainUid: 'chn_t' });
    log.calls(3);
    log.clock.advance(59_990);
    log.audit.tick();
    expect(anchorsIn(path)).toHaveLength(0);
    log.clock.advance(10);
    log.audit.tick();
    expect(anchorsIn(path).map((a) => a.unmapped.epochgate.anchor.sequence)).toEqual([3]);
    log.clock.advance(120_000);
    log.audit.tick();
    expect(anchorsIn(path)).toHaveLength(1);
    log.calls(1);
    log.clock.advance(60_000);
    log.audit.tick();
    expect(anchorsIn(path).map((a) => a.unmapped.epochgate.anchor.sequence)).toEqual([3, 5]);
  });

  it('anchors at stop (after gateway.stop), once', async () => {
    const path = fresh();
    const log = anchoredLog(path, { keys: await newKeys(), chainUid: 'chn_s' });
    log.calls(2);
    log.audit.write({ event: 'gateway.stop', time: log.clock.now(), status: 'ok', actor: { id: 'epochgate', type: 'system' } });
    log.audit.anchorNow();
    log.audit.anchorNow();
    const all = records(path);
    expect(all.map((r) => r.unmapped.epochgate.event)).toEqual(['tool.call', 'tool.call', 'gateway.stop', 'audit.anchor']);
    expect(all[3]!.unmapped.epochgate.anchor.sequence).toBe(3);
  });

  it('signs {chain_uid, sequence, hash, iat} with EdDSA under a kid the JWKS publishes', async () => {
    const keys = await newKeys();
    const path = fresh();
    const log = anchoredLog(path, { keys, chainUid: 'chn_j' });
    log.calls(1);
    log.audit.anchorNow();
    const { anchor } = anchorsIn(path)[0]!.unmapped.epochgate;
    const header = decodeProtectedHeader(anchor.jws);
    expect(header).toEqual({ alg: 'EdDSA', typ: 'epochgate-anchor+jwt', kid: keys.signingKey.kid });
    const published = keys.jwks().keys.find((k) => k.kid === header.kid)!;
    const { payload } = await compactVerify(anchor.jws, await importJWK({ ...published }, 'EdDSA'));
    expect(JSON.parse(Buffer.from(payload).toString())).toEqual({ chain_uid: 'chn_j', sequence: 1, hash: anchor.hash, iat: Math.floor(log.clock.now() / 1000) });
  });

  it('never throws when the store refuses the anchor or the stream refuses the anchor record', async () => {
    const clock = new ManualClock();
    const failingStore = { put: () => Promise.reject(new Error('disk')), newest: async () => null, newestPerChain: async () => [] };
    let down = false;
    const inner: AuditStream = {
      write: () => {
        if (down) throw new Error('audit_unavailable');
      },
      close: () => {},
      isAvailable: () => !down,
      countRefused: () => {},
    };
    const keys = await newKeys();
    const audit = anchorAuditStream(inner, { clock, logger: pino({ level: 'silent' }), store: failingStore, timer: false, everyRecords: 2, signingKey: () => keys.signingKey, head: () => ({ chainUid: 'c', sequence: 1, hash: '0'.repeat(64) }) });
    audit.write({ event: 'gateway.start', time: 0, status: 'ok' });
    expect(() => audit.write({ event: 'gateway.start', time: 0, status: 'ok' })).not.toThrow();
    await audit.flush();
    audit.write({ event: 'gateway.start', time: 0, status: 'ok' });
    down = true;
    clock.advance(60_000);
    expect(() => audit.tick()).not.toThrow();
    expect(() => audit.anchorNow()).not.toThrow();
  });
});
