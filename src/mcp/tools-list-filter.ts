// SPEC §11: a `tools/list` result is filtered to the tools the session may call, so an agent is never
// shown a tool policy would refuse. Pure: the caller buffers the upstream answer and supplies `keep`
// (the pinned policy's verdict for a tools/call of that name).
//
// The answer is either one JSON-RPC response (application/json) or an SSE stream (text/event-stream)
// whose events carry JSON-RPC messages; only the response to this tools/list request (same id) is
// filtered, other events (notifications, requests to the client) pass unchanged. Fail closed: a body
// that cannot be vetted (not JSON, another content type) returns undefined and is never relayed.

/** Decides whether a tool name stays in the list. */
export type KeepTool = (name: string) => boolean;

export function filterToolsList(
  body: Buffer,
  contentType: string | undefined,
  id: string | number,
  keep: KeepTool,
): Buffer | undefined {
  const type = (contentType ?? '').trimStart().toLowerCase();
  if (type.startsWith('application/json')) {
    const text = body.toString('utf8');
    const message = parseJson(text);
    if (message === undefined) return undefined;
    const filtered = filterMessage(message, id, keep);
    return filtered === undefined ? body : Buffer.from(JSON.stringify(filtered));
  }
  if (type.startsWith('text/event-stream')) return filterEventStream(body.toString('utf8'), id, keep);
  return undefined;
}

/** The response with its tools filtered, or undefined when `message` is not the tools/list response. */
function filterMessage(message: unknown, id: string | number, keep: KeepTool): Record<string, unknown> | undefined {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  const response = message as Record<string, unknown>;
  if (response.id !== id) return undefined;
  const result = response.result;
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
  const tools = (result as { tools?: unknown }).tools;
  if (!Array.isArray(tools)) return undefined;
  // A tool without a string name cannot be checked against policy: dropped, never shown.
  const kept = tools.filter((tool: unknown) => {
    const name = typeof tool === 'object' && tool !== null ? (tool as { name?: unknown }).name : undefined;
    return typeof name === 'string' && keep(name);
  });
  return { ...response, result: { ...result, tools: kept } };
}

interface Line {
  text: string;
  eol: string;
}

// WHATWG HTML §9.2.6 (event stream interpretation): lines end in CRLF, LF or CR; a blank line ends an
// event; an event's data is its `data:` field values (one leading space removed) joined with LF.
function filterEventStream(text: string, id: string | number, keep: KeepTool): Buffer {
  const parts = text.split(/(\r\n|\r|\n)/);
  const lines: Line[] = [];
  for (let i = 0; i < parts.length; i += 2) lines.push({ text: parts[i]!, eol: parts[i + 1] ?? '' });
  let changed = false;
  let event: number[] = [];
  const flush = (): void => {
    if (event.length === 0) return;
    const data = event.map((i) => fieldValue(lines[i]!.text)).join('\n');
    const filtered = filterMessage(parseJson(data), id, keep);
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
  if (!changed) return Buffer.from(text);
  return Buffer.from(lines.map((line) => line.text + line.eol).join(''));
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
