// MCP session bindings in process memory (SPEC §11). Each method does its work synchronously inside the
// store's guard, so insert-if-absent is atomic exactly like the sqlite statement.
import type { McpSessionStore, NewMcpSessionBinding } from '../mcp-session-types.js';
import type { StoreGuard } from '../guard.js';

export class MemoryMcpSessions implements McpSessionStore {
  /** `tool \0 mcpSessionId` → gateway session id. */
  private readonly bindings = new Map<string, string>();
  /** Keys of bindings whose client declared URL-mode elicitation. */
  private readonly urlElicitations = new Set<string>();

  constructor(private readonly guard: StoreGuard) {}

  bind(binding: NewMcpSessionBinding): Promise<string> {
    return this.guard(() => {
      const key = bindingKey(binding.tool, binding.mcpSessionId);
      const existing = this.bindings.get(key);
      if (existing !== undefined) return existing;
      this.bindings.set(key, binding.sessionId);
      if (binding.urlElicitation === true) this.urlElicitations.add(key);
      return binding.sessionId;
    });
  }

  boundSession(tool: string, mcpSessionId: string): Promise<string | null> {
    return this.guard(() => this.bindings.get(bindingKey(tool, mcpSessionId)) ?? null);
  }

  urlElicitation(tool: string, mcpSessionId: string): Promise<boolean> {
    return this.guard(() => this.urlElicitations.has(bindingKey(tool, mcpSessionId)));
  }
}

// NUL cannot occur in a tool name or an HTTP header value, so the key is unambiguous.
const bindingKey = (tool: string, mcpSessionId: string): string => `${tool}\0${mcpSessionId}`;
