// Reads a session's recent records back from the tail of this replica's audit file (the console's session
// page). The cost is bounded by the window, never by the file: it reads backwards from the end, at most
// `maxBytes`, and stops at `maxRecords` matches. Every line is untrusted text (a torn last line, a line cut
// by a crash, another program's line): one that is not a record of this shape is skipped, never thrown.
import { open } from 'node:fs/promises';

export interface AuditTailOptions {
  /** How far back from the end of the file to look. */
  readonly maxBytes: number;
  /** How many matching records to return at most (the newest). */
  readonly maxRecords: number;
}

/** What the console shows of one record; every member taken from the line only when it has the right type. */
export interface AuditSummary {
  readonly time: number;
  readonly event: string;
  readonly activityId: number | null;
  readonly status: string;
  readonly epoch: number | null;
  readonly actor: string | null;
  readonly actorType: string | null;
  readonly method: string | null;
  readonly path: string | null;
  readonly tool: string | null;
  readonly mcpTool: string | null;
}

export interface AuditTail {
  /** Newest first. */
  readonly records: readonly AuditSummary[];
  /** True when the window reached the start of the file (nothing older was left unread). */
  readonly wholeFile: boolean;
}

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;
/** ECMAScript's Date range (±100 000 000 days around 1970). */
const MAX_DATE_MS = 8.64e15;

/** Throws only when the file cannot be opened or read (the caller says so on the page). */
export async function readSessionAuditTail(file: string, sessionId: string, options: AuditTailOptions): Promise<AuditTail> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const floor = Math.max(0, size - options.maxBytes);
    const records: AuditSummary[] = [];
    // The session id as a JSON string: a cheap test that skips parsing the lines of other sessions.
    const needle = JSON.stringify(sessionId);
    let end = size;
    /** The start of the file's text after `end` up to the first newline: a line whose beginning is not read yet. */
    let carry = Buffer.alloc(0);
    while (end > floor && records.length < options.maxRecords) {
      const start = Math.max(floor, end - CHUNK);
      const chunk = Buffer.alloc(end - start);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, start);
      const text = Buffer.concat([chunk.subarray(0, bytesRead), carry]);
      end = start;
      // Complete lines only: what precedes the first newline continues in the part not read yet — or, at
      // the window's edge (not the file's start), is a line the window cut, which is left out.
      const first = start === 0 ? -1 : text.indexOf(NEWLINE);
      if (start > floor) carry = first < 0 ? text : text.subarray(0, first);
      if (start > floor && first < 0) continue;
      if (start === floor && start > 0 && first < 0) break;
      collect(text.subarray(first + 1), needle, sessionId, records, options.maxRecords);
    }
    return { records, wholeFile: floor === 0 };
  } finally {
    await handle.close();
  }
}

/** Adds the matching records of `text`'s lines, last line first. */
function collect(text: Buffer, needle: string, sessionId: string, into: AuditSummary[], max: number): void {
  const lines = text.toString('utf8').split('\n');
  for (let i = lines.length - 1; i >= 0 && into.length < max; i--) {
    const line = lines[i]!;
    if (!line.includes(needle)) continue;
    const summary = summarise(line, sessionId);
    if (summary !== null) into.push(summary);
  }
}

/** The record's summary if the line is an OCSF record of this session, else null. */
export function summarise(line: string, sessionId: string): AuditSummary | null {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isObject(record) || at(record, 'actor', 'session', 'uid') !== sessionId) return null;
  const time = record.time;
  const event = str(at(record, 'unmapped', 'epochgate', 'event')) ?? str(at(record, 'api', 'operation'));
  const status = str(record.status_code);
  // A time Date cannot represent would make the page's timestamp formatting throw.
  if (typeof time !== 'number' || !(Math.abs(time) <= MAX_DATE_MS) || event === null || status === null) return null;
  return {
    time,
    event,
    activityId: num(record.activity_id),
    status,
    epoch: num(at(record, 'unmapped', 'epochgate', 'epoch')),
    actor: str(at(record, 'actor', 'user', 'uid')),
    actorType: str(at(record, 'actor', 'user', 'type')),
    method: str(at(record, 'http_request', 'http_method')),
    path: str(at(record, 'http_request', 'url', 'path')),
    tool: str(at(record, 'api', 'service', 'name')),
    mcpTool: str(at(record, 'unmapped', 'epochgate', 'mcp_tool')),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The member at `path`, or undefined when any step is not an object (own members only). */
function at(value: unknown, ...path: string[]): unknown {
  let here = value;
  for (const key of path) {
    if (!isObject(here) || !Object.hasOwn(here, key)) return undefined;
    here = here[key];
  }
  return here;
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
