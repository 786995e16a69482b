// How an approval's stored body preview (the first 8 KiB) is shown to a person: pretty-printed JSON when
// it parses, else the text as it is, else base64. For an MCP tools/call, the tool's arguments are pulled
// out of the JSON-RPC message and shown on their own. Everything returned here is plain text: the page
// escapes it (html.ts), so nothing an agent sent can become markup.
import type { ApprovalRecord } from '../store/approval-types.js';

export interface BodyPreview {
  /** The preview as shown: pretty JSON, text, or base64. */
  readonly text: string;
  readonly format: 'json' | 'text' | 'base64';
  /** MCP tools/call: params.arguments, pretty-printed; null otherwise. */
  readonly mcpArguments: string | null;
  readonly size: number;
  readonly sha256: string | null;
  readonly truncated: boolean;
}

export function bodyPreview(approval: ApprovalRecord): BodyPreview | null {
  const bytes = approval.bodyPreview;
  if (bytes === null) return null;
  const base = { size: approval.bodySize, sha256: approval.bodySha256, truncated: approval.bodySize > bytes.length };
  let text: string;
  try {
    // stream: a multi-byte character cut at the 8 KiB boundary is held back, not an error.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: true });
  } catch {
    return { ...base, text: Buffer.from(bytes).toString('base64'), format: 'base64', mcpArguments: null };
  }
  const parsed = parseJson(text);
  if (parsed === undefined) return { ...base, text, format: 'text', mcpArguments: null };
  return { ...base, text: JSON.stringify(parsed, null, 2), format: 'json', mcpArguments: mcpArguments(approval, parsed) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function mcpArguments(approval: ApprovalRecord, message: unknown): string | null {
  if (approval.action.mcpTool === null || typeof message !== 'object' || message === null) return null;
  const params = (message as { params?: unknown }).params;
  if (typeof params !== 'object' || params === null) return null;
  const args = (params as { arguments?: unknown }).arguments;
  return args === undefined ? null : JSON.stringify(args, null, 2);
}
