// A bounded copy of a response body, taken while it streams to the agent (ledger, SPEC §10): the first
// maxBytes are kept for a replay, while the SHA-256 covers the whole body however long, so the recorded
// outcome names exactly what the tool answered without holding an unbounded body in memory.
import { createHash, type Hash } from 'node:crypto';
import type { CapturedBody } from './forward.js';

export const DEFAULT_CAPTURE_BYTES = 1024 * 1024;

export class BodyCapture {
  private readonly chunks: Buffer[] = [];
  private readonly digest: Hash = createHash('sha256');
  private readonly maxBytes: number;
  private captured = 0;
  private truncated = false;
  private result: CapturedBody | undefined;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Hashes every chunk; keeps it (or the part that still fits) until maxBytes are kept. */
  add(chunk: Buffer): void {
    this.digest.update(chunk);
    if (this.truncated) return;
    const room = this.maxBytes - this.captured;
    if (chunk.length <= room) {
      this.chunks.push(chunk);
      this.captured += chunk.length;
      return;
    }
    if (room > 0) this.chunks.push(chunk.subarray(0, room));
    this.captured += Math.max(room, 0);
    this.truncated = true;
  }

  /** The capture, finalised on the first call (a digest can be read only once) and the same ever after. */
  take(bytes: number): CapturedBody {
    this.result ??= { body: Buffer.concat(this.chunks, this.captured), truncated: this.truncated, sha256: this.digest.digest('hex'), bytes };
    return this.result;
  }
}
