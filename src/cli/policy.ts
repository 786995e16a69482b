// `epochgate policy check|explain` (SPEC §15), on the same loader and evaluator as the gateway.
import { parseArgs } from 'node:util';
import { formatIssue } from '../config/file-issues.js';
import { validatePolicyDir } from '../policy/load.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { policySource } from './policy-source.js';

export const POLICY_HELP = `Usage:
  epochgate policy check [DIR] [--config PATH]
      Validate every policy file; print each error with file, key path and line. Exit 0 valid, 1 invalid.
  epochgate policy explain --agent A --tool T --method M --path P [--mcp-tool N] [--json] [DIR] [--config PATH]
      Show the decision for one call, every matching rule and which one decided. Exit 0 whatever the decision.
The directory is DIR or --policies DIR, else the operator config's policies, else policies/.
`;

const OPTIONS = {
  policies: { type: 'string' },
  config: { type: 'string' },
  agent: { type: 'string' },
  tool: { type: 'string' },
  method: { type: 'string' },
  path: { type: 'string' },
  'mcp-tool': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runPolicyCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr(`epochgate policy: ${(err as Error).message}\n\n${POLICY_HELP}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (sub === '--help' || sub === '-h' || values.help) {
    io.stdout(POLICY_HELP);
    return EXIT_OK;
  }
  if ((sub !== 'check' && sub !== 'explain') || positionals.length > 1) {
    io.stderr(`epochgate policy: expected 'check' or 'explain'\n\n${POLICY_HELP}`);
    return EXIT_USAGE;
  }
  let source;
  try {
    source = policySource(positionals[0] ?? values.policies, values.config);
  } catch (err) {
    io.stderr(`epochgate policy: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
  const result = await validatePolicyDir(source.dir, { now: Date.now(), ...(source.toolNames ? { toolNames: source.toolNames } : {}) });
  for (const warning of result.warnings) io.stderr(`warning: ${formatIssue(warning)}\n`);
  if (source.note) io.stderr(`note: ${source.note}\n`);
  if (!result.snapshot) {
    for (const issue of result.issues) io.stderr(`${formatIssue(issue)}\n`);
    io.stderr(`policy ${source.dir}: ${result.issues.length} error(s)\n`);
    return EXIT_FAILED;
  }
  if (sub === 'check') {
    io.stdout(`policy ${source.dir}: valid, ${result.files.length} file(s), revision ${result.snapshot.revision.slice(0, 12)}\n`);
    return EXIT_OK;
  }
  const missing = (['agent', 'tool', 'method', 'path'] as const).filter((k) => !values[k]);
  if (missing.length > 0) {
    io.stderr(`epochgate policy explain: missing --${missing.join(', --')}\n\n${POLICY_HELP}`);
    return EXIT_USAGE;
  }
  const policy = result.snapshot;
  const agent = policy.agents.get(values.agent!);
  const method = values.method!.toUpperCase();
  const decision = policy.evaluate({
    agentId: values.agent!,
    roles: agent?.roles ?? [],
    tool: values.tool!,
    method,
    path: values.path!,
    ...(values['mcp-tool'] ? { mcpTool: values['mcp-tool'] } : {}),
  });
  const why = decision.rule
    ? `rule ${decision.rule.id} (${decision.rule.effect}) decided: deny beats require_approval beats allow`
    : 'no enforced rule matched: default deny';
  const explained = {
    decision: decision.effect,
    rule_id: decision.rule?.id ?? null,
    why,
    agent_known: agent !== undefined,
    agent_enabled: agent?.enabled ?? false,
    matching_rules: decision.matched.map((r) => ({ id: r.id, effect: r.effect, file: r.file })),
    shadow_rules: decision.shadow.map((r) => ({ id: r.id, effect: r.effect, file: r.file })),
    side_effects: decision.sideEffects,
    idempotency: decision.idempotency,
    revision: policy.revision,
  };
  if (values.json) {
    io.stdout(`${JSON.stringify(explained, null, 2)}\n`);
    return EXIT_OK;
  }
  io.stdout(`decision: ${explained.decision}\nwhy: ${why}\n`);
  if (!agent) io.stdout(`note: agent ${values.agent} is not in the policy (the gateway would refuse its credential)\n`);
  else if (!agent.enabled) io.stdout(`note: agent ${values.agent} is disabled (the gateway answers agent_disabled)\n`);
  io.stdout(`matching rules:${explained.matching_rules.length === 0 ? ' none' : ''}\n`);
  for (const rule of explained.matching_rules) io.stdout(`  ${rule.id === explained.rule_id ? '*' : '-'} ${rule.id} (${rule.effect}) in ${rule.file}\n`);
  for (const rule of explained.shadow_rules) io.stdout(`  ~ ${rule.id} (${rule.effect}, shadow: audited, not enforced) in ${rule.file}\n`);
  return EXIT_OK;
}
