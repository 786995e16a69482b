// MCP session bindings (SPEC §11) as every Store backend keeps them: an `Mcp-Session-Id` minted by an
// upstream MCP server belongs to the gateway session that first received it. Insert-if-absent (DESIGN
// rule 10): two gateway sessions racing to bind the same id cannot both win, and a later binding never
// replaces the first. Bindings outlive epochs and restarts, like the gateway session they belong to.

export interface NewMcpSessionBinding {
  /** The tool (MCP server) that minted the id: ids are only unique per upstream. */
  readonly tool: string;
  readonly mcpSessionId: string;
  /** The gateway session that received the id. */
  readonly sessionId: string;
  readonly createdAt: number;
  /** The client declared URL-mode elicitation in the initialize request that minted the id (MCP
   *  2025-11-25): approval_required then goes to it as the URL-elicitation error. Absent = false. */
  readonly urlElicitation?: boolean;
}

export interface McpSessionStore {
  /** Binds the id to `binding.sessionId` unless it is already bound; returns the gateway session it is
   *  bound to afterwards (the first binding wins). */
  bind(binding: NewMcpSessionBinding): Promise<string>;
  /** The gateway session the id is bound to, or null when it is unbound. One primary-key read. */
  boundSession(tool: string, mcpSessionId: string): Promise<string | null>;
  /** Whether the binding's client declared URL-mode elicitation (false when unbound). */
  urlElicitation(tool: string, mcpSessionId: string): Promise<boolean>;
}
