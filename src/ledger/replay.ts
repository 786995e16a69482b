// Answering a call from the ledger (SPEC §10): the recorded status, headers (hop-by-hop were never kept)
// and body, byte for byte, plus `Idempotent-Replayed: true` and this request's own X-Request-Id; the tool
// is not called. An entry an admin resolved as done answers 200 with a small JSON body instead.
import type { ServerResponse } from 'node:http';
import { GatewayError } from '../errors/gateway-error.js';
import type { LedgerEntry, RecordedResponse } from '../store/ledger-types.js';
import { mcpDoneBody, rewriteJsonRpcId, withoutSessionHeaders } from './mcp-replay.js';

export interface ReplayOptions {
  /** For an MCP message (SPEC §11): its JSON-RPC id (undefined for a notification) and method. The
   *  recorded answer is re-addressed to the id, and never carries the recorded MCP session or cookies. */
  readonly mcp?: { readonly id: string | number | undefined; readonly method: string | undefined };
  /** Writes the request's audit records (run.ts), synchronously, right before the response is ended. */
  readonly beforeEnd: () => void;
}

export function writeReplay(res: ServerResponse, entry: LedgerEntry, options: ReplayOptions): void {
  const reply = entry.state === 'done' ? doneReply(entry, options) : recordedReply(entry, options);
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) {
    // X-Request-Id is this request's (set by the runner); the recorded one never was kept.
    if (!res.hasHeader(name)) res.setHeader(name, value);
  }
  res.setHeader('idempotent-replayed', 'true');
  options.beforeEnd();
  res.end(reply.body);
}

function doneReply(entry: LedgerEntry, options: ReplayOptions): RecordedResponse & { body: Buffer } {
  const id = options.mcp?.id;
  const body =
    id !== undefined
      ? mcpDoneBody(entry.entryId, id, options.mcp?.method)
      : Buffer.from(JSON.stringify({ replayed: true, resolution: 'done', entry_id: entry.entryId }));
  return { status: 200, headers: { 'content-type': 'application/json', 'content-length': String(body.length) }, body };
}

function recordedReply(entry: LedgerEntry, options: ReplayOptions): RecordedResponse & { body: Buffer } {
  const response = entry.response;
  // complete() never leaves a replayable entry without its body; refuse rather than pretend (SPEC §10).
  if (!response || response.body === null) {
    throw new GatewayError('outcome_unknown', { detail: 'The recorded outcome has no replayable body', fields: { entry_id: entry.entryId } });
  }
  if (options.mcp === undefined) return { ...response, body: response.body };
  const headers = withoutSessionHeaders(response.headers);
  const id = options.mcp.id;
  const rewritten = id === undefined ? response.body : rewriteJsonRpcId(response.body, response.headers, id);
  if (rewritten !== response.body) delete headers['content-length'];
  return { status: response.status, headers, body: rewritten };
}
