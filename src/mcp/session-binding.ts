// MCP session bindings (SPEC §11): an Mcp-Session-Id minted by an upstream belongs to the gateway session
// that first received it. The store binds insert-if-absent (the first binding wins, DESIGN rule 10); this
// module is the one place the data plane asks or changes who holds an id.
import type { Store } from '../store/types.js';

export interface McpSessionKey {
  readonly tool: string;
  readonly mcpSessionId: string;
}

/** Who holds a presented id: nobody yet (the upstream judges it), this gateway session, or another one. */
export type McpSessionHolder = 'unbound' | 'here' | 'elsewhere';

export async function mcpSessionHolder(store: Store, key: McpSessionKey, sessionId: string): Promise<McpSessionHolder> {
  const bound = await store.mcpSessions.boundSession(key.tool, key.mcpSessionId);
  return bound === null ? 'unbound' : bound === sessionId ? 'here' : 'elsewhere';
}

/** Binds the id to this gateway session unless it is bound already: 'elsewhere' when another session
 *  holds it (that session keeps it; this one gets 404 if it presents it). */
export async function bindMcpSessionId(store: Store, key: McpSessionKey, sessionId: string, now: number, urlElicitation = false): Promise<'here' | 'elsewhere'> {
  const owner = await store.mcpSessions.bind({ tool: key.tool, mcpSessionId: key.mcpSessionId, sessionId, createdAt: now, urlElicitation });
  return owner === sessionId ? 'here' : 'elsewhere';
}

/** MCP 2025-11-25: an initialize request whose params.capabilities.elicitation has a `url` member declares
 *  URL-mode elicitation. `body` is the request as the gateway parsed it already (strict JSON). */
export function declaresUrlElicitation(body: Uint8Array | null): boolean {
  if (body === null) return false;
  try {
    const message = JSON.parse(Buffer.from(body).toString('utf8')) as { params?: { capabilities?: { elicitation?: unknown } } };
    const elicitation = message.params?.capabilities?.elicitation;
    return typeof elicitation === 'object' && elicitation !== null && typeof (elicitation as { url?: unknown }).url === 'object' && (elicitation as { url?: unknown }).url !== null;
  } catch {
    return false;
  }
}
