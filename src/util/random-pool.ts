import { randomFillSync } from 'node:crypto';

// One randomFillSync call per 8 KiB instead of one per id: a per-call randomBytes cost ~5 µs and three
// ids per request made it the largest single cost on the data-plane hot path. The bytes come from the
// same CSPRNG; each byte is handed out exactly once (the pool is refilled, never rewound).
const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** Reserves `size` fresh bytes of the pool and returns where they start. */
function take(size: number): number {
  if (size > 256) throw new RangeError('the random pool is for ids; use crypto.randomBytes for large buffers');
  if (offset + size > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += size;
  return start;
}

/** `size` fresh random bytes (size ≤ 256) as unpadded base64url, encoded straight from the pool: an id
 *  costs one string and no Buffer (ids are made several times per request). */
export function randomBase64urlPooled(size: number): string {
  const start = take(size);
  return pool.toString('base64url', start, start + size);
}

/** `size` fresh random bytes (size ≤ 256) as lowercase hex, straight from the pool. */
export function randomHexPooled(size: number): string {
  const start = take(size);
  return pool.toString('hex', start, start + size);
}
