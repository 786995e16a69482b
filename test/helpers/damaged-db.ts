// Damaged SQLite files for SPEC §14 ("an unreadable, corrupt, truncated or zero-length one is a start-up
// error"): each case turns the bytes of a healthy epochgate database into a damaged one.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

export interface Damage {
  readonly name: string;
  damage(healthy: Buffer): Buffer;
}

const pageSizeOf = (bytes: Buffer): number => bytes.readUInt16BE(16);

export const DAMAGES: readonly Damage[] = [
  { name: 'zero-length file', damage: () => Buffer.alloc(0) },
  { name: 'truncated inside the header (50 bytes)', damage: (b) => b.subarray(0, 50) },
  { name: 'truncated right after the header (100 bytes)', damage: (b) => b.subarray(0, 100) },
  { name: 'truncated mid-page', damage: (b) => b.subarray(0, pageSizeOf(b) * 2 + 777) },
  { name: 'truncated at a page boundary', damage: (b) => b.subarray(0, pageSizeOf(b) * 3) },
  { name: 'truncated by one page', damage: (b) => b.subarray(0, b.length - pageSizeOf(b)) },
  { name: 'header bytes 0-15 zeroed', damage: (b) => patch(b, 0, Buffer.alloc(16)) },
  { name: 'header magic changed by one byte', damage: (b) => patch(b, 7, Buffer.from('X')) },
  { name: 'page size field set to an invalid value', damage: (b) => patch(b, 16, u16(3000)) },
  { name: 'page size field set to a smaller valid size', damage: (b) => patch(b, 16, u16(pageSizeOf(b) / 4)) },
  { name: 'page size field set to a larger valid size', damage: (b) => patch(b, 16, u16(pageSizeOf(b) * 2)) },
  { name: 'random garbage of the same length', damage: (b) => randomBytes(b.length) },
  { name: 'pages after the first overwritten', damage: (b) => patch(b, pageSizeOf(b), Buffer.alloc(pageSizeOf(b) * 2, 0xa5)) },
];

function patch(bytes: Buffer, offset: number, replacement: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  replacement.copy(copy, offset);
  return copy;
}

function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

/** A closed, healthy epochgate database at `path` with enough rows to span several pages; its bytes. */
export async function writeHealthyDatabase(path: string): Promise<Buffer> {
  const store = new SqliteStore({ path, synchronous: 'full' });
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < 300; i++) {
    await store.sessions.create({
      sessionId: `ses_${i}`, taskId: `task-${i}`, agentId: 'agent-1', state: 'active', stateReason: null, epoch: 1 + (i % 5),
      scope: ['billing'], originalScope: ['billing'], createdAt: t0, updatedAt: t0, leaseExpiresAt: t0 + 60_000, resumes: 0, metadata: { i },
    });
  }
  await store.close();
  return readFileSync(path);
}

export function writeDamaged(path: string, healthy: Buffer, damage: Damage): Buffer {
  const bytes = damage.damage(healthy);
  writeFileSync(path, bytes);
  return bytes;
}
