// `epochgate policy explain` (SPEC §15): the decision for one call, every matching rule with its effect,
// which one decided and why. Exit 0 whatever the decision: explaining a deny is a successful explanation.
import type { PolicySnapshot } from '../policy/types.js';
import { decideCase } from '../policy/test-runner.js';
import { EXIT_OK, type CliIo } from './io.js';
import type { PolicyValues } from './policy.js';

export function explainPolicy(policy: PolicySnapshot, values: PolicyValues, io: CliIo): number {
  const input = {
    agent: values.agent!,
    tool: values.tool!,
    method: values.method!.toUpperCase(),
    path: values.path!,
    ...(values['mcp-tool'] ? { mcp_tool: values['mcp-tool'] } : {}),
  };
  const agent = policy.agents.get(input.agent);
  // The same evaluation the gateway runs (policy.evaluate), plus the agent gate of SPEC §6 step 7.
  const decision = policy.evaluate({
    agentId: input.agent,
    roles: agent?.roles ?? [],
    tool: input.tool,
    method: input.method,
    path: input.path,
    ...(input.mcp_tool !== undefined ? { mcpTool: input.mcp_tool } : {}),
  });
  const enforced = decideCase(policy, input);
  let why: string;
  if (agent && !agent.enabled) why = `agent ${input.agent} is disabled: the gateway answers agent_disabled before any rule is consulted`;
  else if (decision.rule) why = `rule ${decision.rule.id} (${decision.rule.effect}) decided: deny beats require_approval beats allow`;
  else why = 'no enforced rule matched this call: default deny (no rule decided)';
  const explained = {
    decision: enforced.effect,
    rule_id: enforced.rule,
    why,
    agent_known: agent !== undefined,
    agent_enabled: agent?.enabled ?? false,
    matching_rules: decision.matched.map((r) => ({ id: r.id, effect: r.effect, file: r.file, decided: r.id === enforced.rule })),
    shadow_rules: decision.shadow.map((r) => ({ id: r.id, effect: r.effect, file: r.file })),
    side_effects: decision.sideEffects,
    idempotency: decision.idempotency,
    revision: policy.revision,
  };
  if (values.json) {
    io.stdout(`${JSON.stringify(explained, null, 2)}\n`);
    return EXIT_OK;
  }
  io.stdout(`decision: ${explained.decision}${explained.rule_id ? ` (rule ${explained.rule_id})` : ' (no rule decided)'}\nwhy: ${why}\n`);
  if (!agent) io.stdout(`note: agent ${input.agent} is not in the policy (the gateway would refuse its credential)\n`);
  io.stdout(`matching rules:${explained.matching_rules.length === 0 ? ' none' : ''}\n`);
  for (const rule of explained.matching_rules) {
    io.stdout(`  ${rule.decided ? '*' : '-'} ${rule.id} (${rule.effect}) in ${rule.file}${rule.decided ? '  <- decided' : ''}\n`);
  }
  for (const rule of explained.shadow_rules) io.stdout(`  ~ ${rule.id} (${rule.effect}, shadow: audited, not enforced) in ${rule.file}\n`);
  io.stdout(`side effects: ${explained.side_effects}, idempotency: ${explained.idempotency}, revision ${policy.revision.slice(0, 12)}\n`);
  return EXIT_OK;
}
