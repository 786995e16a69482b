import { randomFillSync } from 'node:crypto';

// One randomFillSync call per 8 KiB instead of one per id: a per-call randomBytes cost ~5 µs and three
// ids per request made it the largest single cost on the data-plane hot path. The bytes come from the
// same CSPRNG; each byte is handed out exactly once (the pool is refilled, never rewound).
const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** `size` fresh cryptographically random bytes (size ≤ 256), copied out of the pool. */
export function randomBytesPooled(size: number): Buffer {
  if (size > 256) throw new RangeError('randomBytesPooled is for ids; use crypto.randomBytes for large buffers');
  if (offset + size > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + size));
  offset += size;
  return out;
}
