// THE ordered list of data-plane stages. Each constraint on the order is stated next to the stage.
import type { RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';
import { routeStage } from './stage-route.js';
import { authenticateStage } from './stage-authenticate.js';
import { fenceStage } from './stage-fence.js';
import { mcpSessionStage } from './stage-mcp-session.js';
import { classifyStage } from './stage-classify.js';
import { inflightStage } from './stage-inflight.js';
import { authorizeStage } from './stage-authorize.js';
import { ledgerStage } from './stage-ledger.js';
import { approvalStage } from './stage-approval.js';
import { forwardStage } from './stage-forward.js';

export type Stage = (deps: PipelineDeps, ctx: RequestContext) => void | Promise<void>;

export const STAGES: readonly Stage[] = [
  // SPEC §6: target and path checks and routing come before any credential is looked at.
  routeStage,
  // Steps 1–4: cheap (verified claims and kid standings are cached); a store read only for a kid not seen
  // within the key status TTL, rate-limited for unknown kids (SPEC §17, published-keys.ts).
  authenticateStage,
  // Steps 5–8: one store read of the session; state and epoch fence before anything else happens.
  fenceStage,
  // SPEC §11: an Mcp-Session-Id bound to another gateway session is refused. Needs the fenced session;
  // before classify so such a caller never makes the gateway read a body. No work for protocol http.
  mcpSessionStage,
  // Reads the body: only fenced callers get this far. For an MCP tool it first runs the HTTP-level policy
  // check (method and path, SPEC §3), so a path deny refuses before the body is read.
  classifyStage,
  // SPEC §8 in-flight limit for MCP messages: after classify (a tools/call refusal is answered in MCP form),
  // before ledger and approval (a refused call reserves and holds nothing).
  inflightStage,
  // Step 9: needs the action (method, path, MCP tool) from classify.
  authorizeStage,
  // SPEC §10. Needs the decision (side_effects, idempotency). Before approval: a call answered from the
  // ledger has no new side effect, so it neither needs nor consumes an approval. Its reservation re-checks
  // the epoch atomically, so a worker fenced between the fence stage and here never reaches the tool.
  ledgerStage,
  // Needs the decision; must come before forward so require_approval never reaches the tool.
  approvalStage,
  // Last: the only stage with an upstream side effect.
  forwardStage,
];
