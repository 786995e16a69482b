// MCP session bindings in SQLite (SPEC §11). Statements are prepared once when the store opens
// (sqlite-prepare.ts). bind() is INSERT OR IGNORE then a read of the winner, in one transaction under the
// write lock, so the first binding wins across connections and processes (DESIGN rule 10).
import type Database from 'better-sqlite3';
import type { McpSessionStore, NewMcpSessionBinding } from '../mcp-session-types.js';
import type { StoreGuard } from '../guard.js';
import { pluck, prepareStatements, sql, type Statements } from './sqlite-prepare.js';

const Q = {
  select: pluck<[string, string], string>('SELECT session_id FROM mcp_sessions WHERE tool = ? AND mcp_session_id = ?'),
  selectElicitation: pluck<[string, string], number>('SELECT url_elicitation FROM mcp_sessions WHERE tool = ? AND mcp_session_id = ?'),
  insert: sql<[NewMcpSessionBinding & { url: number }]>(
    `INSERT OR IGNORE INTO mcp_sessions (tool, mcp_session_id, session_id, created_at, url_elicitation)
     VALUES (@tool, @mcpSessionId, @sessionId, @createdAt, @url)`,
  ),
} as const;

export class SqliteMcpSessions implements McpSessionStore {
  private readonly sql: Statements<typeof Q>;
  private readonly bindTx: (binding: NewMcpSessionBinding) => string;

  constructor(db: Database.Database, private readonly guard: StoreGuard) {
    const q = prepareStatements(db, Q);
    this.sql = q;
    this.bindTx = db.transaction((binding: NewMcpSessionBinding): string => {
      q.insert.run({ tool: binding.tool, mcpSessionId: binding.mcpSessionId, sessionId: binding.sessionId, createdAt: binding.createdAt, url: binding.urlElicitation === true ? 1 : 0 });
      const bound = q.select.get(binding.tool, binding.mcpSessionId);
      if (bound === undefined) throw new Error('mcp session binding vanished inside its transaction');
      return bound;
    });
  }

  bind(binding: NewMcpSessionBinding): Promise<string> {
    return this.guard(() => this.bindTx(binding));
  }

  boundSession(tool: string, mcpSessionId: string): Promise<string | null> {
    return this.guard(() => this.sql.select.get(tool, mcpSessionId) ?? null);
  }

  urlElicitation(tool: string, mcpSessionId: string): Promise<boolean> {
    return this.guard(() => this.sql.selectElicitation.get(tool, mcpSessionId) === 1);
  }
}
