// MCP session bindings on PostgreSQL (SPEC §11). bind() is one statement: insert-if-absent, and when the
// insert lost, the winner's row. The primary key decides, so the first binding wins across replicas.
import type { McpSessionStore, NewMcpSessionBinding } from '../mcp-session-types.js';
import { sql, type PgDb } from './pg-db.js';

const Q = {
  insert: sql(
    'mcp_bind',
    `INSERT INTO mcp_sessions (tool, mcp_session_id, session_id, created_at, url_elicitation) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tool, mcp_session_id) DO NOTHING RETURNING session_id`,
  ),
  select: sql('mcp_bound', 'SELECT session_id FROM mcp_sessions WHERE tool = $1 AND mcp_session_id = $2'),
  elicitation: sql('mcp_url_elicitation', 'SELECT url_elicitation FROM mcp_sessions WHERE tool = $1 AND mcp_session_id = $2'),
} as const;

export class PgMcpSessions implements McpSessionStore {
  constructor(private readonly db: PgDb) {}

  bind(b: NewMcpSessionBinding): Promise<string> {
    return this.db.many(async (db) => {
      const inserted = await db.one<{ session_id: string }>(Q.insert, [b.tool, b.mcpSessionId, b.sessionId, b.createdAt, b.urlElicitation === true]);
      if (inserted !== undefined) return inserted.session_id;
      // Lost the insert: a new statement sees the committed winner (bindings are never deleted).
      const bound = await db.one<{ session_id: string }>(Q.select, [b.tool, b.mcpSessionId]);
      if (bound === undefined) throw new Error('mcp session binding conflicted but is not there');
      return bound.session_id;
    });
  }

  async boundSession(tool: string, mcpSessionId: string): Promise<string | null> {
    return (await this.db.one<{ session_id: string }>(Q.select, [tool, mcpSessionId]))?.session_id ?? null;
  }

  /** What the winning binding's client declared (false when unbound). */
  async urlElicitation(tool: string, mcpSessionId: string): Promise<boolean> {
    return (await this.db.one<{ url_elicitation: boolean }>(Q.elicitation, [tool, mcpSessionId]))?.url_elicitation === true;
  }
}
