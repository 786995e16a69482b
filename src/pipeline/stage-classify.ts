// Classify: what action is this? Reads the body (bounded) only now, after the caller was authenticated
// and fenced, so a stale or anonymous caller never makes the gateway read a body (DESIGN).
import { classifyMcpBody } from '../mcp/classify.js';
import { checkMcpHeaders } from '../mcp/header-rules.js';
import { sha256Hex } from '../util/hash.js';
import { need, type RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import { readBody } from './read-body.js';

export async function classifyStage(_deps: PipelineDeps, ctx: RequestContext): Promise<void> {
  const route = need(ctx, 'route');
  const method = (ctx.req.method ?? 'GET').toUpperCase();
  const body = await readBody(ctx.req, route.tool.maxBodyBytes);
  let mcpTool: string | undefined;
  if (route.tool.protocol === 'mcp' && method === 'POST') {
    const message = classifyMcpBody(body);
    // SPEC §11: Mcp-Method / Mcp-Name must agree with the body (header-rules.ts says why).
    checkMcpHeaders(ctx.req.headers, message);
    ctx.mcpMessage = message;
    mcpTool = message.toolName;
  }
  const bodySha256 = body ? sha256Hex(body) : undefined;
  if (bodySha256) ctx.auditExtra.body_sha256 = bodySha256;
  if (mcpTool) ctx.auditExtra.mcp_tool = mcpTool;
  ctx.action = { method, path: route.path, body, bodySha256, mcpTool };
}
