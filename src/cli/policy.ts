// `epochgate policy check|test|explain` (SPEC §15), on the same loader and evaluator as the gateway:
// every subcommand starts from validatePolicyDir, exactly what `serve` and a reload run.
import { parseArgs } from 'node:util';
import { formatIssue } from '../config/file-issues.js';
import { validatePolicyDir, type PolicyValidation } from '../policy/load.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { explainInput, explainPolicy } from './policy-explain.js';
import { policySource, type PolicySource } from './policy-source.js';
import { testPolicy } from './policy-test.js';

export const POLICY_HELP = `Usage:
  epochgate policy check [DIR] [--config PATH]
      Validate every policy file; print every error at once with file, line and key path.
      Exit 0 valid, 1 invalid.
  epochgate policy test [DIR] [--config PATH] [--json]
      Run the *.test.yaml case tables in the policy directory against the policy. A failing case prints
      its input, the expected and the actual decision. Exit 0 all pass, 1 a case fails or a file is invalid.
  epochgate policy explain --agent A --tool T --method M [--path P] [--mcp-method M] [--mcp-tool N]
                           [--mcp-resource URI] [--mcp-prompt N] [--json] [DIR] [--config PATH]
      Show the decision for one call, every matching rule with its effect and which one decided.
      For an MCP tool, --path defaults to / (the MCP endpoint) and the --mcp-* flags describe the POSTed
      message (--mcp-tool alone means tools/call, --mcp-resource resources/read, --mcp-prompt prompts/get).
      Exit 0 whatever the decision.
The directory is DIR or --policies DIR, else the operator config's policies (--config, EPOCHGATE_CONFIG,
or config/epochgate.yaml), else policies/. Tool names are checked when the operator config can be read.
Exit status: 0 ok, 1 the check failed, 2 usage error.
`;

const OPTIONS = {
  policies: { type: 'string' },
  config: { type: 'string' },
  agent: { type: 'string' },
  tool: { type: 'string' },
  method: { type: 'string' },
  path: { type: 'string' },
  'mcp-tool': { type: 'string' },
  'mcp-method': { type: 'string' },
  'mcp-resource': { type: 'string' },
  'mcp-prompt': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type PolicyValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

const SUBCOMMANDS = ['check', 'test', 'explain'] as const;
type Sub = (typeof SUBCOMMANDS)[number];
const isSub = (word: string | undefined): word is Sub => (SUBCOMMANDS as readonly (string | undefined)[]).includes(word);

export async function runPolicyCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return usage((err as Error).message, io);
  }
  const { values, positionals } = parsed;
  if (sub === '--help' || sub === '-h' || values.help) {
    io.stdout(POLICY_HELP);
    return EXIT_OK;
  }
  if (!isSub(sub) || positionals.length > 1) return usage(`expected 'check', 'test' or 'explain'${positionals.length > 1 ? ' and at most one DIR' : ''}`, io);
  if (positionals[0] !== undefined && values.policies !== undefined) return usage('give the directory as DIR or --policies, not both', io);
  let source: PolicySource;
  try {
    source = policySource(positionals[0] ?? values.policies, values.config);
  } catch (err) {
    io.stderr(`epochgate policy: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
  // --path may default from the tool's protocol (MCP: "/"), which only the operator config knows.
  const input = sub === 'explain' ? explainInput(values, source.protocols) : undefined;
  if (sub === 'explain' && input === undefined) return missingExplainFlags(values, io);
  const result = await validatePolicyDir(source.dir, { now: Date.now(), ...(source.toolNames ? { toolNames: source.toolNames } : {}) });
  for (const warning of result.warnings) io.stderr(`warning: ${formatIssue(warning)}\n`);
  if (source.note) io.stderr(`note: ${source.note}\n`);
  if (!reportInvalid(result, source, io)) return EXIT_FAILED;
  const snapshot = result.snapshot!;
  switch (sub) {
    case 'check':
      io.stdout(`policy ${source.dir}: valid, ${result.files.length} file(s), revision ${snapshot.revision.slice(0, 12)}\n`);
      return EXIT_OK;
    case 'test':
      return testPolicy(source, snapshot, values, io);
    case 'explain':
      return explainPolicy(snapshot, input!, source.protocols, values, io);
  }
}

function usage(message: string, io: CliIo): number {
  io.stderr(`epochgate policy: ${message}\n\n${POLICY_HELP}`);
  return EXIT_USAGE;
}

function missingExplainFlags(values: PolicyValues, io: CliIo): number {
  const missing = (['agent', 'tool', 'method', 'path'] as const).filter((k) => !values[k]);
  io.stderr(`epochgate policy explain: missing --${missing.join(', --')}\n\n${POLICY_HELP}`);
  return EXIT_USAGE;
}

/** Prints every issue (all files, all at once: SPEC §3); false when the directory is invalid. */
function reportInvalid(result: PolicyValidation, source: PolicySource, io: CliIo): boolean {
  if (result.snapshot) return true;
  for (const issue of result.issues) io.stderr(`${formatIssue(issue)}\n`);
  const files = new Set(result.issues.map((issue) => issue.file)).size;
  io.stderr(`policy ${source.dir}: invalid: ${result.issues.length} error(s) in ${files} file(s)\n`);
  return false;
}
