// The in-flight limit for MCP messages (SPEC §8, §11): the slot was taken at the fence; a message admitted
// over the limit is refused here, once classify has parsed it, so the refusal of a tools/call can be put in
// MCP form. Plain HTTP calls over the limit were already refused at the fence, before their body was read.
import type { RequestContext } from './context.js';
import type { PipelineDeps } from './deps.js';

export function inflightStage(deps: PipelineDeps, ctx: RequestContext): void {
  if (ctx.live !== undefined && !ctx.live.counted) throw deps.live.limitError();
}
