// The action digest of a request (SPEC §9.1), which is also its ledger fingerprint (SPEC §10: the same
// facts — tool, method, normalised path, query, body; for an MCP message its JSON-RPC method, the path and
// query it was posted to, and the tool name and arguments).
// Computed at most once per request, and only by the stages that need it (approval, ledger), so an
// ordinary read never canonicalises or hashes its body for them.
import { actionDigest } from '../approvals/digest.js';
import { need, type RequestContext } from './context.js';

const computed = new WeakMap<RequestContext, string>();

export function actionDigestOf(ctx: RequestContext): string {
  let digest = computed.get(ctx);
  if (digest === undefined) {
    const route = need(ctx, 'route');
    const action = need(ctx, 'action');
    digest = actionDigest({
      tool: route.tool.name,
      method: action.method,
      path: action.path,
      query: route.query,
      body: action.body,
      contentType: ctx.req.headers['content-type'],
      mcpTool: action.mcpTool,
      mcpMethod: ctx.mcpMessage?.method,
    });
    computed.set(ctx, digest);
  }
  return digest;
}
