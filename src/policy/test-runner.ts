// `policy test` case tables (SPEC §15): *.test.yaml files next to the policies, each case an input (agent,
// tool, method, path, MCP tool) and the expected effect and rule id. Cases run on the snapshot that
// validatePolicyDir built — the gateway's own loader and evaluator, never a second implementation.
// Test files are validated as strictly as policy files (unknown keys, file + key path + line).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { at, type FileIssue, type LineLocator } from '../config/file-issues.js';
import { readYamlFile } from '../config/yaml-file.js';
import { decideCall, type CallFacts } from './decide.js';
import type { Effect, PolicySnapshot } from './types.js';

// RFC 9110 §9.1 method token, like policy files; compared upper-cased.
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;

const caseSchema = z
  .object({
    name: z.string().min(1, 'must not be empty'),
    input: z
      .object({
        agent: z.string().min(1, 'must not be empty'),
        tool: z.string().min(1, 'must not be empty'),
        method: z.string().regex(METHOD, 'must be an HTTP method token'),
        // The normalised path below the tool, as the gateway evaluates it (SPEC §8).
        path: z.string().startsWith('/', 'must start with "/" (the path below the tool)'),
        // The POSTed MCP message (SPEC §3): its JSON-RPC method (default tools/call with mcp_tool,
        // resources/read with mcp_resource, prompts/get with mcp_prompt) and what it names.
        mcp_method: z.string().min(1, 'must not be empty').optional(),
        mcp_tool: z.string().min(1, 'must not be empty').optional(),
        mcp_resource: z.string().min(1, 'must not be empty').optional(),
        mcp_prompt: z.string().min(1, 'must not be empty').optional(),
      })
      .strict(),
    expect: z
      .object({
        effect: z.enum(['allow', 'deny', 'require_approval']),
        // A rule id; null = no rule decided (default deny, or a disabled agent); omitted = not checked.
        rule: z.string().min(1, 'must not be empty').nullable().optional(),
      })
      .strict(),
  })
  .strict();

export const policyTestFileSchema = z
  .object({
    apiVersion: z.literal('epochgate/v1'),
    kind: z.literal('PolicyTest'),
    cases: z.array(caseSchema).min(1, 'at least one case is required'),
  })
  .strict();

export type PolicyTestCase = z.output<typeof caseSchema>;

export interface PolicyTestFile {
  readonly display: string;
  readonly locate: LineLocator;
  readonly cases: readonly PolicyTestCase[];
}

export interface PolicyTestLoad {
  readonly files: readonly PolicyTestFile[];
  readonly issues: readonly FileIssue[];
}

/** Reads and validates every *.test.yaml in `dir` (sorted by name). */
export async function loadPolicyTests(dir: string): Promise<PolicyTestLoad> {
  const issues: FileIssue[] = [];
  const files: PolicyTestFile[] = [];
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.test.yaml')).sort();
  } catch (err) {
    return { files, issues: [{ file: dir, path: '', message: `cannot read the policy directory (${(err as NodeJS.ErrnoException).code ?? 'error'})` }] };
  }
  for (const name of names) {
    const display = join(dir, name);
    const file = await readYamlFile(display, policyTestFileSchema, issues);
    if (file.valid) files.push({ display, locate: file.valid.locate, cases: file.valid.data.cases });
  }
  return { files, issues };
}

/**
 * Checks the cases against the policy revision, so a typo cannot make a case pass by accident: the agent
 * must be defined, the rule id must exist, the tool must be one the operator config defines (when known),
 * and case names are unique within a file.
 */
export function checkPolicyTests(
  files: readonly PolicyTestFile[],
  policy: PolicySnapshot,
  toolNames?: ReadonlySet<string>,
  protocols?: Protocols,
): FileIssue[] {
  const issues: FileIssue[] = [];
  const ruleIds = new Set(policy.rules.map((rule) => rule.id));
  for (const file of files) {
    const names = new Map<string, number>();
    file.cases.forEach((c, i) => {
      const issue = (path: (string | number)[], message: string) => issues.push(at(file.display, ['cases', i, ...path], file.locate, message));
      const first = names.get(c.name);
      if (first !== undefined) issue(['name'], `duplicate case name "${c.name}" (first at cases[${first}])`);
      else names.set(c.name, i);
      if (!policy.agents.has(c.input.agent)) issue(['input', 'agent'], `agent "${c.input.agent}" is not defined in the policy`);
      if (toolNames !== undefined && !toolNames.has(c.input.tool)) issue(['input', 'tool'], `tool "${c.input.tool}" is not defined in the operator config`);
      if (typeof c.expect.rule === 'string' && !ruleIds.has(c.expect.rule)) issue(['expect', 'rule'], `rule "${c.expect.rule}" is not defined in the policy`);
      // An MCP message on an HTTP tool would be decided as plain HTTP: the case could pass for the wrong reason.
      const mcpKey = (['mcp_method', 'mcp_tool', 'mcp_resource', 'mcp_prompt'] as const).find((key) => c.input[key] !== undefined);
      if (mcpKey && protocols?.get(c.input.tool) === 'http') issue(['input', mcpKey], `tool "${c.input.tool}" is not an MCP tool (protocol http)`);
    });
  }
  return issues;
}

export interface PolicyTestOutcome {
  readonly effect: Effect;
  /** The deciding rule, or null (default deny, disabled agent). */
  readonly rule: string | null;
  /** Why the gateway would answer this way when no rule decided. */
  readonly note?: string;
}

export interface PolicyTestResult {
  readonly file: string;
  readonly line?: number;
  readonly name: string;
  readonly input: PolicyTestCase['input'];
  readonly expected: PolicyTestCase['expect'];
  readonly got: PolicyTestOutcome;
  readonly passed: boolean;
}

/** A case's or explain's input: what THE decision (decide.ts) needs to know of one request. */
export type CaseInput = PolicyTestCase['input'];

/** Tool protocols from the operator config; without it, a case naming an MCP message is an MCP tool. */
export type Protocols = ReadonlyMap<string, 'http' | 'mcp'> | undefined;

/** The request of one case as the gateway sees it. */
export function caseFacts(policy: PolicySnapshot, input: CaseInput, protocols: Protocols): CallFacts {
  const named = input.mcp_method ?? input.mcp_tool ?? input.mcp_resource ?? input.mcp_prompt;
  const protocol = protocols?.get(input.tool) ?? (named !== undefined ? 'mcp' : 'http');
  const method = input.mcp_method ?? (input.mcp_tool ? 'tools/call' : input.mcp_resource ? 'resources/read' : input.mcp_prompt ? 'prompts/get' : undefined);
  return {
    agentId: input.agent,
    roles: policy.agents.get(input.agent)?.roles ?? [],
    tool: input.tool,
    protocol,
    method: input.method.toUpperCase(),
    path: input.path,
    ...(protocol === 'mcp' &&
      method !== undefined && { mcp: { method, tool: input.mcp_tool, resource: input.mcp_resource, prompt: input.mcp_prompt } }),
  };
}

/** What the gateway would decide for one case: THE decision, after the agent gate of SPEC §6 step 7. */
export function decideCase(policy: PolicySnapshot, input: CaseInput, protocols?: Protocols): PolicyTestOutcome {
  const agent = policy.agents.get(input.agent);
  // A disabled agent is refused (agent_disabled) before any rule is consulted, so it is a deny by no rule.
  if (agent && !agent.enabled) return { effect: 'deny', rule: null, note: 'agent disabled' };
  const verdict = decideCall(policy, caseFacts(policy, input, protocols));
  if (verdict.rule) return { effect: verdict.effect, rule: verdict.rule.id };
  if (verdict.basis === 'scope') return { effect: 'allow', rule: null, note: 'governed by scope alone' };
  return { effect: 'deny', rule: null, note: 'no rule matched' };
}

export function runPolicyTests(files: readonly PolicyTestFile[], policy: PolicySnapshot, protocols?: Protocols): PolicyTestResult[] {
  const results: PolicyTestResult[] = [];
  for (const file of files) {
    file.cases.forEach((c, i) => {
      const got = decideCase(policy, c.input, protocols);
      const passed = got.effect === c.expect.effect && (c.expect.rule === undefined || c.expect.rule === got.rule);
      const line = file.locate(['cases', i]);
      results.push({ file: file.display, ...(line !== undefined ? { line } : {}), name: c.name, input: c.input, expected: c.expect, got, passed });
    });
  }
  return results;
}

/** "agent=billing-bot tool=billing method=POST path=/refunds [mcp_method=… mcp_tool=…]" */
export function describeInput(input: PolicyTestCase['input']): string {
  const mcp = (['mcp_method', 'mcp_tool', 'mcp_resource', 'mcp_prompt'] as const)
    .filter((key) => input[key] !== undefined)
    .map((key) => ` ${key}=${input[key]}`)
    .join('');
  return `agent=${input.agent} tool=${input.tool} method=${input.method.toUpperCase()} path=${input.path}${mcp}`;
}

/** "require_approval by rule refunds-need-approval", "deny by no rule (no rule matched)", "allow". */
export function describeOutcome(effect: Effect, rule: string | null | undefined, note?: string): string {
  if (rule === undefined) return effect;
  if (rule === null) return `${effect} by no rule${note ? ` (${note})` : ''}`;
  return `${effect} by rule ${rule}`;
}
