// `epochgate policy explain` (SPEC §15): the decision for one call, every matching rule with its effect,
// which one decided and why. Exit 0 whatever the decision: explaining a deny is a successful explanation.
// The decision is THE one the gateway makes (policy/decide.ts), MCP endpoint and message rules included.
import { decideCall } from '../policy/decide.js';
import { caseFacts, decideCase, type CaseInput, type Protocols } from '../policy/test-runner.js';
import type { PolicySnapshot } from '../policy/types.js';
import { EXIT_OK, type CliIo } from './io.js';
import type { PolicyValues } from './policy.js';

/** The explain flags as a case input. `--path` defaults to "/" (the MCP endpoint) for an MCP tool. */
export function explainInput(values: PolicyValues, protocols: Protocols): CaseInput | undefined {
  const mcpFlag = values['mcp-method'] ?? values['mcp-tool'] ?? values['mcp-resource'] ?? values['mcp-prompt'];
  const isMcp = (protocols?.get(values.tool ?? '') ?? (mcpFlag !== undefined ? 'mcp' : 'http')) === 'mcp';
  const path = values.path ?? (isMcp ? '/' : undefined);
  if (!values.agent || !values.tool || !values.method || path === undefined) return undefined;
  return {
    agent: values.agent,
    tool: values.tool,
    method: values.method.toUpperCase(),
    path,
    ...(values['mcp-method'] && { mcp_method: values['mcp-method'] }),
    ...(values['mcp-tool'] && { mcp_tool: values['mcp-tool'] }),
    ...(values['mcp-resource'] && { mcp_resource: values['mcp-resource'] }),
    ...(values['mcp-prompt'] && { mcp_prompt: values['mcp-prompt'] }),
  };
}

export function explainPolicy(policy: PolicySnapshot, input: CaseInput, protocols: Protocols, values: PolicyValues, io: CliIo): number {
  const agent = policy.agents.get(input.agent);
  const verdict = decideCall(policy, caseFacts(policy, input, protocols));
  const enforced = decideCase(policy, input, protocols);
  let why: string;
  if (agent && !agent.enabled) why = `agent ${input.agent} is disabled: the gateway answers agent_disabled before any rule is consulted`;
  else why = verdict.why;
  const decision = verdict.decision;
  const explained = {
    decision: enforced.effect,
    rule_id: enforced.rule,
    why,
    basis: verdict.basis,
    input,
    agent_known: agent !== undefined,
    agent_enabled: agent?.enabled ?? false,
    matching_rules: (decision?.matched ?? []).map((r) => ({ id: r.id, effect: r.effect, file: r.file, decided: r.id === enforced.rule })),
    shadow_rules: (decision?.shadow ?? []).map((r) => ({ id: r.id, effect: r.effect, file: r.file })),
    side_effects: decision?.sideEffects ?? false,
    idempotency: decision?.idempotency ?? 'optional',
    revision: policy.revision,
  };
  if (values.json) {
    io.stdout(`${JSON.stringify(explained, null, 2)}\n`);
    return EXIT_OK;
  }
  const by = explained.rule_id ? ` (rule ${explained.rule_id})` : verdict.basis === 'scope' ? ' (scope alone)' : ' (no rule decided)';
  io.stdout(`decision: ${explained.decision}${by}\nwhy: ${why}\n`);
  if (!agent) io.stdout(`note: agent ${input.agent} is not in the policy (the gateway would refuse its credential)\n`);
  io.stdout(`matching rules:${explained.matching_rules.length === 0 ? ' none' : ''}\n`);
  for (const rule of explained.matching_rules) {
    io.stdout(`  ${rule.decided ? '*' : '-'} ${rule.id} (${rule.effect}) in ${rule.file}${rule.decided ? '  <- decided' : ''}\n`);
  }
  for (const rule of explained.shadow_rules) io.stdout(`  ~ ${rule.id} (${rule.effect}, shadow: audited, not enforced) in ${rule.file}\n`);
  io.stdout(`side effects: ${explained.side_effects}, idempotency: ${explained.idempotency}, revision ${policy.revision.slice(0, 12)}\n`);
  return EXIT_OK;
}
