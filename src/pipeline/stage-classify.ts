// Classify: what action is this? For an MCP tool, the HTTP-level policy check (method and path, SPEC §3)
// runs first, so a deny on a path refuses the request before its body is read. Then the body is read
// (bounded) — only now, after the caller was authenticated and fenced, so a stale or anonymous caller
// never makes the gateway read a body (DESIGN) — and a POST to an MCP tool is parsed strictly as one
// JSON-RPC message (SPEC §11).
import { parseMcpMessage } from '../mcp/classify.js';
import { checkMcpHeaders } from '../mcp/header-rules.js';
import { deniedError } from '../policy/denied-error.js';
import { httpGate } from '../policy/decide.js';
import { sha256Hex } from '../util/hash.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import { readBody } from '../http/read-body.js';
import { callFacts } from './request-facts.js';

export async function classifyStage(_deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const route = need(ctx, 'route');
  const method = (ctx.req.method ?? 'GET').toUpperCase();
  const mcp = route.tool.protocol === 'mcp';
  if (mcp) {
    const refused = httpGate(ctx.policy, callFacts(ctx, method, route.path));
    if (refused?.decision) {
      ctx.decision = refused.decision;
      throw deniedError(refused.decision);
    }
  }
  const body = await readBody(ctx.req, route.tool.maxBodyBytes);
  let mcpTool: string | undefined;
  if (mcp && method === 'POST') {
    const message = parseMcpMessage(body);
    // SPEC §11: Mcp-Method / Mcp-Name must agree with the body (header-rules.ts says why).
    checkMcpHeaders(ctx.req.headers, message);
    ctx.mcpMessage = message;
    mcpTool = message.toolName;
    if (message.method !== undefined) ctx.auditExtra.mcp_method = message.method;
  }
  const bodySha256 = body ? sha256Hex(body) : undefined;
  if (bodySha256) ctx.auditExtra.body_sha256 = bodySha256;
  if (mcpTool) ctx.auditExtra.mcp_tool = mcpTool;
  ctx.action = { method, path: route.path, body, bodySha256, mcpTool };
}
