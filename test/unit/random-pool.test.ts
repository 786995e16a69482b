import { describe, expect, it } from 'vitest';
import { randomBase64urlPooled, randomHexPooled } from '../../src/util/random-pool.js';
import { newEventId, newRequestId, newSessionId } from '../../src/util/ids.js';
import { newTraceparent, parseTraceparent } from '../../src/upstream/headers.js';

describe('random pool', () => {
  it('encodes the requested number of bytes as unpadded base64url and as hex', () => {
    expect(randomBase64urlPooled(12)).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(randomBase64urlPooled(18)).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(randomHexPooled(24)).toMatch(/^[0-9a-f]{48}$/);
  });

  it('never hands out the same bytes twice, across pool refills', () => {
    // 8 KiB pool / 18 bytes: 2 000 ids cross several refills.
    const ids = Array.from({ length: 2000 }, () => randomBase64urlPooled(18));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses sizes beyond what ids need', () => {
    expect(() => randomBase64urlPooled(257)).toThrow(RangeError);
  });

  it('makes prefixed ids of 144 bits (sessions) and 96 bits (requests, events)', () => {
    expect(newSessionId()).toMatch(/^ses_[A-Za-z0-9_-]{24}$/);
    expect(newRequestId()).toMatch(/^req_[A-Za-z0-9_-]{16}$/);
    expect(newEventId()).toMatch(/^evt_[A-Za-z0-9_-]{16}$/);
  });

  it('makes valid, distinct traceparents', () => {
    const a = newTraceparent();
    expect(parseTraceparent(a)).toMatchObject({ flags: '01' });
    expect(a).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(newTraceparent()).not.toBe(a);
  });
});
