// SPEC §11: list answers are filtered to what the session may use, so an agent is never shown a tool (or
// resource, or prompt) policy would refuse. Pure: the caller buffers the upstream answer and supplies
// `keep` (the pinned policy's verdict for using that item).
//
// The answer is one JSON-RPC response (application/json) or an SSE stream (text/event-stream) whose events
// carry JSON-RPC messages. EVERY response in it that carries the list is filtered, whatever its id: the id
// the client chose (a string, a number, null, or none at all when the list was asked as a notification)
// must never decide whether the filter runs. Other messages (notifications, requests to the client) pass
// unchanged. Fail closed: a body that cannot be vetted (not JSON, another content type) returns undefined
// and is never relayed. An empty body (202 to a notification) has nothing to filter.

/** Decides whether an item (by its name or URI) stays in the list. */
export type KeepItem = (key: string) => boolean;

/** Which list: the result member holding it, and the member of each item that policy matches. */
export interface ListKind {
  readonly member: 'tools' | 'resources' | 'prompts';
  readonly key: 'name' | 'uri';
}

/** By JSON-RPC method. No prototype: a method named like an Object member ("toString", "constructor") is
 *  no list kind (looked up by the agent's method name in mcp-forward.ts). */
export const LIST_KINDS: Readonly<Record<string, ListKind>> = Object.assign(Object.create(null) as Record<string, ListKind>, {
  'tools/list': { member: 'tools', key: 'name' },
  'resources/list': { member: 'resources', key: 'uri' },
  'prompts/list': { member: 'prompts', key: 'name' },
});

export function filterListAnswer(body: Buffer, contentType: string | undefined, kind: ListKind, keep: KeepItem): Buffer | undefined {
  if (body.length === 0) return body;
  const type = (contentType ?? '').trimStart().toLowerCase();
  if (type.startsWith('application/json')) {
    const message = parseJson(body.toString('utf8'));
    if (message === undefined) return undefined;
    const filtered = filterMessage(message, kind, keep);
    return filtered === undefined ? body : Buffer.from(JSON.stringify(filtered));
  }
  if (type.startsWith('text/event-stream')) return Buffer.from(filterEvents(body.toString('utf8'), (message) => filterMessage(message, kind, keep)));
  return undefined;
}

/** The response with its list filtered, or undefined when `message` is not a response carrying the list. */
export function filterMessage(message: unknown, kind: ListKind, keep: KeepItem): Record<string, unknown> | undefined {
  if (!isObject(message) || !isObject(message.result)) return undefined;
  const items = message.result[kind.member];
  if (!Array.isArray(items)) return undefined;
  // An item without a string key cannot be checked against policy: dropped, never shown.
  const kept = items.filter((item: unknown) => {
    const key = isObject(item) ? item[kind.key] : undefined;
    return typeof key === 'string' && keep(key);
  });
  return { ...message, result: { ...message.result, [kind.member]: kept } };
}

interface Line {
  text: string;
  eol: string;
}

// WHATWG HTML §9.2.6 (event stream interpretation): lines end in CRLF, LF or CR; a blank line ends an
// event; an event's data is its `data:` field values (one leading space removed) joined with LF.
function filterEvents(text: string, filter: (message: unknown) => Record<string, unknown> | undefined): string {
  const parts = text.split(/(\r\n|\r|\n)/);
  const lines: Line[] = [];
  for (let i = 0; i < parts.length; i += 2) lines.push({ text: parts[i]!, eol: parts[i + 1] ?? '' });
  let changed = false;
  let event: number[] = [];
  const flush = (): void => {
    if (event.length === 0) return;
    const data = event.map((i) => fieldValue(lines[i]!.text)).join('\n');
    const filtered = filter(parseJson(data));
    if (filtered !== undefined) {
      const [first, ...rest] = event;
      lines[first!]!.text = `data: ${JSON.stringify(filtered)}`;
      for (const i of rest) lines[i] = { text: '', eol: '' };
      changed = true;
    }
    event = [];
  };
  lines.forEach((line, i) => {
    if (line.text === '') flush();
    else if (line.text === 'data' || line.text.startsWith('data:')) event.push(i);
  });
  flush();
  if (!changed) return text;
  return lines.map((line) => line.text + line.eol).join('');
}

function fieldValue(line: string): string {
  const value = line.slice(5); // after "data:" ("data" alone gives "")
  return value.startsWith(' ') ? value.slice(1) : value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Picks, per list member, the keep function, or undefined when that list is not filtered for this tool. */
export type KeepFor = (kind: ListKind) => KeepItem | undefined;

/** Filters every list a response message carries (tools, resources, prompts), whatever the message's id. */
function filterAnyList(message: unknown, keepFor: KeepFor): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const kind of Object.values(LIST_KINDS)) {
    const keep = keepFor(kind);
    const filtered = keep ? filterMessage(out ?? message, kind, keep) : undefined;
    if (filtered) out = filtered;
  }
  return out;
}

/** Chunk in, chunk out: what forward() writes to the agent instead of the upstream's bytes. */
export interface StreamFilter {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
}

// A blank line ends an SSE event (WHATWG HTML §9.2.6). A trailing CR may be the first half of a CRLF, so
// an event boundary that ends the buffered text with CR is only trusted once more text has arrived.
const EVENT_END = /(?:\r\n|\r|\n)(?:\r\n|\r|\n)/g;

/** Bound on one SSE event held back for vetting (like the 4 MiB bound on a buffered list answer). */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

/**
 * SPEC §11 "whatever its id or stream": an SSE stream relayed unbuffered (a tools/call progress stream, a
 * standalone GET stream, a resumed stream replaying an earlier list answer) has each complete event vetted
 * as it passes; an event that carries a list is filtered like a buffered list answer. Partial events wait
 * for their end. Everything else passes byte for byte.
 */
export function sseListFilter(keepFor: KeepFor, maxEventBytes = MAX_EVENT_CHARS): StreamFilter {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  const vet = (text: string): Buffer => Buffer.from(filterEvents(text, (message) => filterAnyList(message, keepFor)));
  return {
    push(chunk) {
      pending += decoder.decode(chunk, { stream: true });
      let cut = -1;
      for (const match of pending.matchAll(EVENT_END)) {
        const end = match.index + match[0].length;
        if (end < pending.length || !pending.endsWith('\r')) cut = end;
      }
      if (cut === -1) {
        // Fail closed on an event too large to vet: the stream is cut, never relayed unvetted.
        if (pending.length > maxEventBytes) throw new Error(`an SSE event exceeds ${maxEventBytes} characters`);
        return Buffer.alloc(0);
      }
      const ready = pending.slice(0, cut);
      pending = pending.slice(cut);
      return vet(ready);
    },
    end() {
      const rest = pending + decoder.decode();
      pending = '';
      return rest === '' ? Buffer.alloc(0) : vet(rest);
    },
  };
}
