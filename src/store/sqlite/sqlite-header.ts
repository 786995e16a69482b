// SPEC §14: a damaged database is a start-up error. SQLite itself forgives too much for a store that
// holds fencing state: it treats a zero-length file as a new empty database, and reads a file cut short
// as if the missing pages were free. So before SQLite sees the file we check its 100-byte header
// (https://www.sqlite.org/fileformat.html §1.3) and that the file is as long as the header says.
import { closeSync, openSync, readSync, statSync } from 'node:fs';

const MAGIC = Buffer.from('SQLite format 3\u0000', 'latin1');
const HEADER_BYTES = 100;

/** Returns why the file is not a whole SQLite database, or null when its header and length are sound. */
export function headerProblem(path: string, walPending = false): string | null {
  const size = statSync(path).size;
  if (size === 0) return 'the file is empty (zero length)';
  if (size < HEADER_BYTES) return `the file is ${size} bytes, shorter than a SQLite header`;
  const header = Buffer.alloc(HEADER_BYTES);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  if (!header.subarray(0, 16).equals(MAGIC)) return 'the header does not start with "SQLite format 3"';
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return `invalid page size ${raw} in the header`;
  // Bytes 18/19: file format versions (1 legacy, 2 WAL); 21–23: payload fractions, fixed at 64, 32, 32.
  if (![1, 2].includes(header[18]!) || ![1, 2].includes(header[19]!)) return 'invalid file format version in the header';
  if (header[21] !== 64 || header[22] !== 32 || header[23] !== 32) return 'invalid payload fractions in the header';
  if (size % pageSize !== 0) return `the file is ${size} bytes, not a whole number of ${pageSize}-byte pages (truncated?)`;
  // The in-header page count is valid when its change counter matches "version-valid-for" (§1.3.7).
  const pages = header.readUInt32BE(28);
  const valid = pages > 0 && header.readUInt32BE(24) === header.readUInt32BE(92);
  if (valid && !walPending && size < pages * pageSize) return `the file holds ${size / pageSize} pages, the header says ${pages} (truncated)`;
  return null;
}
