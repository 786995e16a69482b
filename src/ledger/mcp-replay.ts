// SPEC §11: a replayed MCP answer must carry the JSON-RPC id of the message it answers. The fingerprint of
// an MCP tools/call ignores the id (SPEC §10), so the recorded result is re-addressed to the new id: in a
// JSON body, or in each SSE `data:` line that holds a JSON-RPC response. Anything else is left as recorded.
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

/** The id of the JSON-RPC request in `body` (undefined when there is none to answer). */
export function jsonRpcRequestId(body: Buffer | null): string | number | null | undefined {
  if (body === null) return undefined;
  try {
    const id = (JSON.parse(body.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' || typeof id === 'number' || id === null ? id : undefined;
  } catch {
    return undefined;
  }
}
