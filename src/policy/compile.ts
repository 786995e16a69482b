// Validated policy files → one frozen PolicySnapshot (SPEC §3). Cross-file checks (duplicates, tool
// names, roles nobody holds) run here over every file at once; globs become matchers exactly once.
import type { JWTVerifyGetKey } from 'jose';
import { at, type FileIssue, type KeyPath, type LineLocator } from '../config/file-issues.js';
import { deepFreeze, FrozenMap } from '../util/freeze.js';
import { TOOL_NAME } from '../config/schema.js';
import { compilePathGlob, type GlobResult, type Matcher } from '../util/glob.js';
import { compileMcpMatcher } from './mcp-match.js';
import { evaluateRules, reachableTools, type RuleMatcher } from './evaluate.js';
import type { PolicyFile, PolicyRuleInput } from './schema.js';
import type { AgentCredential, AgentDef, CompiledRule, PersonDef, PolicySnapshot, SessionDefaults } from './types.js';

export interface ValidPolicyFile {
  /** Base name, e.g. "billing.yaml" (snapshot.files, rule.file). */
  readonly name: string;
  /** How issues name the file (the path as the operator would type it). */
  readonly display: string;
  readonly locate: LineLocator;
  readonly data: PolicyFile;
}

export interface CheckResult {
  readonly issues: FileIssue[];
  readonly warnings: FileIssue[];
}

// SPEC §3 sessions block: the defaults shown there.
export const DEFAULT_SESSIONS: SessionDefaults = Object.freeze({ tokenTtlMs: 15 * 60_000, leaseTtlMs: 5 * 60_000, maxAgeMs: 86_400_000, maxResumes: 100 });

interface Seen {
  readonly display: string;
  readonly line: number | undefined;
}

function where(seen: Seen): string {
  return seen.line === undefined ? seen.display : `${seen.display}:${seen.line}`;
}

/** What the checks of every file collect before the warnings can be decided. */
interface PolicyIndex {
  readonly names: Map<string, Seen & { kind: string }>;
  readonly ruleIds: Map<string, Seen>;
  sessions: Seen | undefined;
  readonly agentRoles: Set<string>;
  readonly personRoles: Set<string>;
}

type Report = (path: KeyPath, message: string) => void;

/** Checks that need every file: duplicates, `sessions` at most once, tool names, unheld roles. */
export function checkPolicyFiles(files: readonly ValidPolicyFile[], toolNames?: ReadonlySet<string>): CheckResult {
  const issues: FileIssue[] = [];
  const warnings: FileIssue[] = [];
  const seen: PolicyIndex = { names: new Map(), ruleIds: new Map(), sessions: undefined, agentRoles: new Set(), personRoles: new Set() };
  for (const file of files) {
    const issue: Report = (path, message) => issues.push(at(file.display, path, file.locate, message));
    checkIdentities(file, seen, issue);
    checkRules(file, seen, issue, toolNames);
    if (file.data.sessions !== undefined) {
      if (seen.sessions) issue(['sessions'], `the sessions block is already set at ${where(seen.sessions)} (at most one file may set it)`);
      else seen.sessions = { display: file.display, line: file.locate(['sessions']) };
    }
  }
  // Warnings need the complete set of roles and names, so they come after every file was read.
  for (const file of files) warnUnheld(file, seen, (path, message) => warnings.push(at(file.display, path, file.locate, message)));
  return { issues, warnings };
}

/** Agents and people share one namespace: an id names one identity in tokens and audit records. */
function checkIdentities(file: ValidPolicyFile, seen: PolicyIndex, issue: Report): void {
  for (const [kind, entries] of [['agent', file.data.agents], ['person', file.data.people]] as const) {
    for (const [id, def] of Object.entries(entries ?? {})) {
      const path = [kind === 'agent' ? 'agents' : 'people', id];
      const first = seen.names.get(id);
      if (first) issue(path, `duplicate ${kind} name "${id}" (already defined as ${first.kind} at ${where(first)})`);
      else seen.names.set(id, { display: file.display, line: file.locate(path), kind });
      for (const role of def.roles) (kind === 'agent' ? seen.agentRoles : seen.personRoles).add(role);
    }
  }
}

function checkRules(file: ValidPolicyFile, seen: PolicyIndex, issue: Report, toolNames: ReadonlySet<string> | undefined): void {
  file.data.rules?.forEach((rule, i) => {
    const first = seen.ruleIds.get(rule.id);
    if (first) issue(['rules', i, 'id'], `duplicate rule id "${rule.id}" (first at ${where(first)})`);
    else seen.ruleIds.set(rule.id, { display: file.display, line: file.locate(['rules', i, 'id']) });
    rule.tools?.forEach((tool, j) => {
      if (toolNames !== undefined && !toolNames.has(tool)) issue(['rules', i, 'tools', j], `tool "${tool}" is not defined in the operator config`);
      else if (toolNames === undefined && !TOOL_NAME.test(tool)) issue(['rules', i, 'tools', j], `"${tool}" is not a valid tool name`);
    });
  });
}

function warnUnheld(file: ValidPolicyFile, seen: PolicyIndex, warn: Report): void {
  file.data.rules?.forEach((rule, i) => {
    rule.roles?.forEach((role, j) => {
      if (!seen.agentRoles.has(role)) warn(['rules', i, 'roles', j], `role "${role}" is held by no agent`);
    });
    rule.agents?.forEach((agent, j) => {
      if (seen.names.get(agent)?.kind !== 'agent') warn(['rules', i, 'agents', j], `agent "${agent}" is not defined`);
    });
    rule.approval?.approvers.forEach((role, j) => {
      if (!seen.personRoles.has(role)) warn(['rules', i, 'approval', 'approvers', j], `approver role "${role}" is held by no person`);
    });
  });
}

export interface SnapshotInput {
  readonly files: readonly ValidPolicyFile[];
  readonly revision: string;
  readonly loadedAt: number;
  /** Key resolvers built by the loader, keyed by the jwt credential object they belong to. */
  readonly jwtKeys: ReadonlyMap<object, JWTVerifyGetKey>;
  readonly toolNames?: ReadonlySet<string>;
  readonly warnings: readonly string[];
}

/** Builds the frozen snapshot. Callers run checkPolicyFiles first and only build when it found nothing. */
export function buildSnapshot(input: SnapshotInput): PolicySnapshot {
  const agents: [string, AgentDef][] = [];
  const people: [string, PersonDef][] = [];
  const matchers: RuleMatcher[] = [];
  let sessions = DEFAULT_SESSIONS;
  for (const file of input.files) {
    for (const [id, raw] of Object.entries(file.data.agents ?? {})) agents.push([id, agentDef(id, raw, input.jwtKeys)]);
    for (const [id, raw] of Object.entries(file.data.people ?? {})) {
      people.push([id, { id, roles: unique(raw.roles), secretSha256: raw.credentials.map((cred) => cred.sha256) }]);
    }
    for (const rule of file.data.rules ?? []) matchers.push(compileRule(rule, file.name));
    if (file.data.sessions) sessions = sessionSettings(file.data.sessions);
  }
  // Without the operator's tool list (policy check with no config), "every tool" means every tool a rule names.
  const universe: ReadonlySet<string> = input.toolNames ?? new Set(matchers.flatMap((m) => [...(m.tools ?? [])]));
  const frozenMatchers = Object.freeze(matchers);
  const snapshot: PolicySnapshot = {
    revision: input.revision,
    loadedAt: input.loadedAt,
    files: input.files.map((file) => file.name),
    agents: new FrozenMap(agents),
    people: new FrozenMap(people),
    rules: matchers.map((m) => m.rule),
    sessions,
    warnings: [...input.warnings],
    evaluate: (facts) => evaluateRules(frozenMatchers, facts),
    reachableTools: (agent) => reachableTools(frozenMatchers, agent, universe),
    mcpListFilters: listFilters(matchers),
  };
  return deepFreeze(snapshot);
}

type AgentInput = NonNullable<ValidPolicyFile['data']['agents']>[string];

function agentDef(id: string, raw: AgentInput, jwtKeys: ReadonlyMap<object, JWTVerifyGetKey>): AgentDef {
  const credentials = raw.credentials.map((cred): AgentCredential => {
    if (cred.type === 'secret') return { type: 'secret', sha256: cred.sha256 };
    const keys = jwtKeys.get(cred);
    if (!keys) throw new Error(`internal: no key resolver for agent ${id}`);
    return { type: 'jwt', issuer: cred.issuer, subject: cred.subject, keys };
  });
  const notBefore = raw.not_before === undefined ? null : Date.parse(raw.not_before);
  return { id, enabled: raw.enabled, roles: unique(raw.roles), notBefore, credentials };
}

function sessionSettings(s: NonNullable<ValidPolicyFile['data']['sessions']>): PolicySnapshot['sessions'] {
  return {
    tokenTtlMs: s.token_ttl ?? DEFAULT_SESSIONS.tokenTtlMs,
    leaseTtlMs: s.lease_ttl ?? DEFAULT_SESSIONS.leaseTtlMs,
    maxAgeMs: s.max_age ?? DEFAULT_SESSIONS.maxAgeMs,
    maxResumes: s.max_resumes ?? DEFAULT_SESSIONS.maxResumes,
  };
}

/** One rule → its CompiledRule (plain data) and matchers. Globs were validated by the schema. */
export function compileRule(raw: PolicyRuleInput, file: string): RuleMatcher {
  const methods = raw.methods && unique(raw.methods.map((m) => m.toUpperCase()));
  const rule: CompiledRule = {
    id: raw.id,
    effect: raw.effect,
    mode: raw.mode,
    file,
    ...(raw.roles && { roles: unique(raw.roles) }),
    ...(raw.agents && { agents: unique(raw.agents) }),
    ...(raw.tools && { tools: unique(raw.tools) }),
    ...(methods && { methods }),
    ...(raw.paths && { paths: [...raw.paths] }),
    ...(raw.mcp_tools && { mcpTools: [...raw.mcp_tools] }),
    ...(raw.mcp_methods && { mcpMethods: [...raw.mcp_methods] }),
    ...(raw.mcp_resources && { mcpResources: [...raw.mcp_resources] }),
    ...(raw.mcp_prompts && { mcpPrompts: [...raw.mcp_prompts] }),
    ...(raw.approval && { approval: { approvers: unique(raw.approval.approvers), ttlMs: raw.approval.ttl, holdMs: raw.approval.hold } }),
    ...(raw.side_effects !== undefined && { sideEffects: raw.side_effects }),
    idempotency: raw.idempotency,
  };
  const matcher: RuleMatcher = {
    rule,
    ...(rule.roles && { roles: new Set(rule.roles) }),
    ...(rule.agents && { agents: new Set(rule.agents) }),
    ...(rule.tools && { tools: new Set(rule.tools) }),
    ...(rule.methods && { methods: new Set(rule.methods) }),
    ...(rule.paths && { paths: rule.paths.map((p) => matcherOf(compilePathGlob(p))) }),
  };
  const mcp = compileMcpMatcher(rule);
  return mcp ? { ...matcher, mcp } : matcher;
}

/** SPEC §11: resources/list and prompts/list of a tool are filtered when a rule that can apply to that
 *  tool (it names it, or names no tool) uses mcp_resources / mcp_prompts. Decided once per revision. */
function listFilters(matchers: readonly RuleMatcher[]): PolicySnapshot['mcpListFilters'] {
  const uses = (pick: (rule: CompiledRule) => unknown) => {
    const rules = matchers.filter((m) => pick(m.rule) !== undefined);
    return { all: rules.some((m) => m.tools === undefined), tools: new Set(rules.flatMap((m) => [...(m.tools ?? [])])) };
  };
  const resources = uses((rule) => rule.mcpResources);
  const prompts = uses((rule) => rule.mcpPrompts);
  return (tool) => ({ resources: resources.all || resources.tools.has(tool), prompts: prompts.all || prompts.tools.has(tool) });
}

function matcherOf(result: GlobResult): Matcher {
  // The schema rejected bad globs; reaching this is a bug, and failing loudly beats matching nothing.
  if (!result.ok) throw new Error(`internal: glob not validated: ${result.error}`);
  return result.match;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
