// SPEC §11: a replayed MCP answer must carry the JSON-RPC id of the message it answers. The fingerprint of
// an MCP tools/call ignores the id (SPEC §10), so the recorded result is re-addressed to the new id: in a
// JSON body, or in each SSE `data:` line that holds a JSON-RPC response. Anything else is left as recorded.
import { REPLAY_META } from '../mcp/mcp-reply.js';
import type { RecordedHeaders } from '../store/ledger-types.js';

export function rewriteJsonRpcId(body: Buffer, headers: RecordedHeaders, id: string | number | null): Buffer {
  const type = String(headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/json')) {
    const message = parse(body.toString('utf8'));
    return message ? Buffer.from(JSON.stringify({ ...message, id })) : body;
  }
  if (type.startsWith('text/event-stream')) {
    let changed = false;
    const lines = body.toString('utf8').split(/(\r?\n)/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line.startsWith('data:')) continue;
      const message = parse(line.slice(5).trimStart());
      if (!message) continue;
      lines[i] = `data: ${JSON.stringify({ ...message, id })}`;
      changed = true;
    }
    return changed ? Buffer.from(lines.join('')) : body;
  }
  return body;
}

/** A JSON-RPC response object (has an id and a result or an error), else undefined. */
function parse(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const message = value as Record<string, unknown>;
  return 'id' in message && ('result' in message || 'error' in message) ? message : undefined;
}

/** SPEC §11: the recorded upstream MCP session and cookies belong to the exchange that was recorded, not to
 *  this client: replaying them would make the client adopt an MCP session that may be gone (its next call
 *  then fails with 404). The client keeps the MCP session it has. */
export function withoutSessionHeaders(headers: RecordedHeaders): RecordedHeaders {
  const kept = Object.create(null) as Record<string, RecordedHeaders[string]>; // keeps a header named __proto__
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'mcp-session-id' && lower !== 'set-cookie') kept[name] = value;
  }
  return kept;
}

/** SPEC §11: an admin's `done` resolution in MCP form, under the new request's id: a tool result for
 *  tools/call (text says it already happened), otherwise a result carrying only the replay marker. */
export function mcpDoneBody(entryId: string, id: string | number, method: string | undefined): Buffer {
  const replay = { replayed: true, resolution: 'done', entry_id: entryId };
  const text = `This call already happened: an administrator recorded its earlier attempt as done (ledger entry ${entryId}). It was not run again.`;
  const result =
    method === 'tools/call' ? { content: [{ type: 'text', text }], _meta: { [REPLAY_META]: replay } } : { _meta: { [REPLAY_META]: replay } };
  return Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, result }));
}
