// Policy evaluation (SPEC §3). Pure: no I/O, no clock; everything it needs was compiled at load
// (DESIGN rule 3), so a request costs set look-ups and pre-built glob walks.
import type { AgentDef, CompiledRule, Decision, Effect, RequestFacts } from './types.js';
import type { Matcher } from '../util/glob.js';
import { mcpMatches, mcpMethodOf, type McpMatcher } from './mcp-match.js';

/** A rule plus the matchers built for it once at load. Undefined selector = matches everything. */
export interface RuleMatcher {
  readonly rule: CompiledRule;
  readonly roles?: ReadonlySet<string>;
  readonly agents?: ReadonlySet<string>;
  readonly tools?: ReadonlySet<string>;
  /** Upper-cased. */
  readonly methods?: ReadonlySet<string>;
  readonly paths?: readonly Matcher[];
  /** Present iff the rule has an MCP selector (mcp-match.ts). */
  readonly mcp?: McpMatcher;
}

// SPEC §3: methods that change state default to side-effecting (feeds the replay ledger, SPEC §10).
const SIDE_EFFECT_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** SPEC §3 default for `side_effects` when no rule (or a rule without the key) decides. For an MCP
 *  message the HTTP method is transport (every message is a POST): only tools/call defaults to true. */
export function defaultSideEffects(facts: RequestFacts): boolean {
  const mcpMethod = mcpMethodOf(facts);
  if (mcpMethod !== undefined) return mcpMethod === 'tools/call';
  return SIDE_EFFECT_METHODS.has(facts.method.toUpperCase());
}

/** Who the rule applies to: roles (agent holds one), agents (listed), or omitted = every agent. */
export function appliesTo(matcher: RuleMatcher, agentId: string, roles: readonly string[]): boolean {
  if (matcher.agents !== undefined && !matcher.agents.has(agentId)) return false;
  if (matcher.roles !== undefined && !roles.some((role) => matcher.roles!.has(role))) return false;
  return true;
}

/** All selectors of one rule against one request. `method` is upper-cased by the caller. */
export function ruleMatches(matcher: RuleMatcher, facts: RequestFacts, method: string): boolean {
  if (!appliesTo(matcher, facts.agentId, facts.roles)) return false;
  if (matcher.tools !== undefined && !matcher.tools.has(facts.tool)) return false;
  if (matcher.methods !== undefined && !matcher.methods.has(method)) return false;
  if (matcher.paths !== undefined && !matcher.paths.some((match) => match(facts.path))) return false;
  // A rule with an MCP selector governs only the MCP messages it covers (mcp-match.ts says which).
  if (matcher.mcp !== undefined && !mcpMatches(matcher.mcp, facts)) return false;
  return true;
}

/** SPEC §3: any matching deny wins, then require_approval, then allow; nothing matching = deny. */
export function evaluateRules(matchers: readonly RuleMatcher[], facts: RequestFacts): Decision {
  const method = facts.method.toUpperCase();
  const matched: CompiledRule[] = [];
  const shadow: CompiledRule[] = [];
  for (const matcher of matchers) {
    if (!ruleMatches(matcher, facts, method)) continue;
    // Shadow rules are audited for what they would do, never enforced (SPEC §3 mode: shadow).
    if (matcher.rule.mode === 'shadow') shadow.push(matcher.rule);
    else matched.push(matcher.rule);
  }
  const rule = pick(matched, 'deny') ?? pick(matched, 'require_approval') ?? pick(matched, 'allow') ?? null;
  return {
    effect: rule?.effect ?? 'deny',
    rule,
    matched,
    shadow,
    sideEffects: rule?.sideEffects ?? defaultSideEffects(facts),
    idempotency: rule?.idempotency ?? 'optional',
  };
}

/** The first rule (file order) with that effect, so the deciding rule is stable across evaluations. */
function pick(rules: readonly CompiledRule[], effect: Effect): CompiledRule | undefined {
  return rules.find((rule) => rule.effect === effect);
}

/**
 * SPEC §5: the tools an agent can reach = tools named by an enforced allow or require_approval rule that
 * applies to it (a rule without `tools` reaches every tool in `universe`).
 */
export function reachableTools(matchers: readonly RuleMatcher[], agent: AgentDef, universe: ReadonlySet<string>): ReadonlySet<string> {
  const out = new Set<string>();
  for (const matcher of matchers) {
    const { rule } = matcher;
    if (rule.mode !== 'enforce' || rule.effect === 'deny') continue;
    if (!appliesTo(matcher, agent.id, agent.roles)) continue;
    for (const tool of matcher.tools ?? universe) if (universe.has(tool)) out.add(tool);
  }
  return out;
}
