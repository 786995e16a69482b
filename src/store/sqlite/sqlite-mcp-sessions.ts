// MCP session bindings in SQLite (SPEC §11). Statements are prepared once when the store opens (DESIGN
// rule 3). bind() is INSERT OR IGNORE then a read of the winner, in one transaction under the write lock,
// so the first binding wins across connections and processes (DESIGN rule 10).
import type Database from 'better-sqlite3';
import type { McpSessionStore, NewMcpSessionBinding } from '../mcp-session-types.js';
import type { StoreGuard } from '../guard.js';

export class SqliteMcpSessions implements McpSessionStore {
  private readonly select: Database.Statement<[string, string], string>;
  private readonly selectElicitation: Database.Statement<[string, string], number>;
  private readonly bindTx: (binding: NewMcpSessionBinding) => string;

  constructor(db: Database.Database, private readonly guard: StoreGuard) {
    this.select = db.prepare<[string, string], string>(
      'SELECT session_id FROM mcp_sessions WHERE tool = ? AND mcp_session_id = ?',
    ).pluck();
    this.selectElicitation = db.prepare<[string, string], number>(
      'SELECT url_elicitation FROM mcp_sessions WHERE tool = ? AND mcp_session_id = ?',
    ).pluck();
    const insert = db.prepare<[NewMcpSessionBinding & { url: number }]>(
      `INSERT OR IGNORE INTO mcp_sessions (tool, mcp_session_id, session_id, created_at, url_elicitation)
       VALUES (@tool, @mcpSessionId, @sessionId, @createdAt, @url)`,
    );
    const select = this.select;
    this.bindTx = db.transaction((binding: NewMcpSessionBinding): string => {
      insert.run({ tool: binding.tool, mcpSessionId: binding.mcpSessionId, sessionId: binding.sessionId, createdAt: binding.createdAt, url: binding.urlElicitation === true ? 1 : 0 });
      const bound = select.get(binding.tool, binding.mcpSessionId);
      if (bound === undefined) throw new Error('mcp session binding vanished inside its transaction');
      return bound;
    });
  }

  bind(binding: NewMcpSessionBinding): Promise<string> {
    return this.guard(() => this.bindTx(binding));
  }

  boundSession(tool: string, mcpSessionId: string): Promise<string | null> {
    return this.guard(() => this.select.get(tool, mcpSessionId) ?? null);
  }

  urlElicitation(tool: string, mcpSessionId: string): Promise<boolean> {
    return this.guard(() => this.selectElicitation.get(tool, mcpSessionId) === 1);
  }
}
