// MCP selectors of a rule (SPEC §3), compiled once at load and matched per message.
//
// A rule with no MCP selector is an HTTP rule: it matches on methods/paths, and so matches every message
// POSTed where it applies. A rule with an MCP selector matches only a governed MCP message whose JSON-RPC
// method the rule covers:
//   - `mcp_methods` names methods explicitly (globs);
//   - `mcp_tools` implies tools/call (and then params.name must match);
//   - `mcp_resources` applies to resources/read|subscribe|unsubscribe (params.uri must match) and, without
//     `mcp_methods`, implies those three methods;
//   - `mcp_prompts` applies to prompts/get (params.name must match) and, without `mcp_methods`, implies it.
// So `mcp_resources: ["crm://public/**"]` can never allow a tools/call: each selector covers only the
// methods it names or implies. The HTTP-level check of a request (no message) never matches such a rule.
import { compileNameGlob, compileUriGlob, type GlobResult, type Matcher } from '../util/glob.js';
import { PROMPT_METHODS, RESOURCE_METHODS } from './schema.js';
import type { CompiledRule, RequestFacts } from './types.js';

export interface McpMatcher {
  /** Methods the rule covers by name (implied by its selectors). */
  readonly implied: ReadonlySet<string>;
  /** `mcp_methods` globs. */
  readonly methods?: readonly Matcher[];
  readonly tools?: readonly Matcher[];
  readonly resources?: readonly Matcher[];
  readonly prompts?: readonly Matcher[];
}

const RESOURCE_SET: ReadonlySet<string> = new Set(RESOURCE_METHODS);

/** The rule's MCP matcher, or undefined when it has no MCP selector (an HTTP rule). */
export function compileMcpMatcher(rule: CompiledRule): McpMatcher | undefined {
  const { mcpMethods, mcpTools, mcpResources, mcpPrompts } = rule;
  if (!mcpMethods && !mcpTools && !mcpResources && !mcpPrompts) return undefined;
  const implied = new Set<string>();
  if (mcpTools) implied.add('tools/call');
  if (!mcpMethods && mcpResources) RESOURCE_METHODS.forEach((m) => implied.add(m));
  if (!mcpMethods && mcpPrompts) PROMPT_METHODS.forEach((m) => implied.add(m));
  return {
    implied,
    ...(mcpMethods && { methods: mcpMethods.map((g) => matcherOf(compileNameGlob(g))) }),
    ...(mcpTools && { tools: mcpTools.map((g) => matcherOf(compileNameGlob(g))) }),
    ...(mcpResources && { resources: mcpResources.map((g) => matcherOf(compileUriGlob(g))) }),
    ...(mcpPrompts && { prompts: mcpPrompts.map((g) => matcherOf(compileNameGlob(g))) }),
  };
}

/** The JSON-RPC method the facts describe; `mcpTool` alone means tools/call. */
export function mcpMethodOf(facts: RequestFacts): string | undefined {
  return facts.mcpMethod ?? (facts.mcpTool !== undefined ? 'tools/call' : undefined);
}

export function mcpMatches(matcher: McpMatcher, facts: RequestFacts): boolean {
  const method = mcpMethodOf(facts);
  if (method === undefined) return false;
  if (!matcher.implied.has(method) && !matcher.methods?.some((match) => match(method))) return false;
  if (method === 'tools/call' && matcher.tools && !anyMatch(matcher.tools, facts.mcpTool)) return false;
  if (RESOURCE_SET.has(method) && matcher.resources && !anyMatch(matcher.resources, facts.mcpResource)) return false;
  if (method === 'prompts/get' && matcher.prompts && !anyMatch(matcher.prompts, facts.mcpPrompt)) return false;
  return true;
}

// A message that lacks the value a selector checks (no params.name) never matches that selector.
function anyMatch(matchers: readonly Matcher[], value: string | undefined): boolean {
  return value !== undefined && matchers.some((match) => match(value));
}

function matcherOf(result: GlobResult): Matcher {
  // The schema rejected bad globs; reaching this is a bug, and failing loudly beats matching nothing.
  if (!result.ok) throw new Error(`internal: glob not validated: ${result.error}`);
  return result.match;
}
