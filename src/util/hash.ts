import { hash, timingSafeEqual } from 'node:crypto';

/** One-shot SHA-256 (crypto.hash, Node ≥ 20.12): no Hash object per call, which matters on the audit
 *  hot path where every record is hashed. */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/** Constant-time comparison of two equal-length lowercase hex digests. */
export function hexDigestEquals(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}
