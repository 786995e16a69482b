// THE decision for one request (SPEC §3 "MCP requests are governed like any other request"), shared by the
// gateway (stage-classify, stage-authorize), `policy test` and `policy explain`, so a case that explains as
// deny is refused by the gateway. Pure: the facts come in, a verdict goes out.
//
// Plain HTTP tools: the policy decision, nothing more. MCP tools, in two steps:
// 1. HTTP level (no message): every request is matched on method and path like plain HTTP. A matching deny
//    rule refuses it. The MCP endpoint (POST, GET, DELETE on "/") needs no allow rule of its own; any other
//    path or method does (no rule = deny). The gateway runs this step before it reads the body.
// 2. A POSTed message: discovery and transport messages (and JSON-RPC responses the client sends back) are
//    governed by scope alone; every other method by the rules that match the message (mcp-match.ts), where
//    HTTP rules (no MCP selector) match every message posted where they apply.
import type { CompiledRule, Decision, Effect, PolicySnapshot, RequestFacts } from './types.js';

/** A POSTed JSON-RPC message as policy sees it. `method` undefined = a JSON-RPC response. */
export interface McpMessageFacts {
  readonly method: string | undefined;
  readonly tool?: string;
  readonly resource?: string;
  readonly prompt?: string;
}

export interface CallFacts {
  readonly agentId: string;
  readonly roles: readonly string[];
  readonly tool: string;
  readonly protocol: 'http' | 'mcp';
  readonly method: string;
  readonly path: string;
  /** MCP tools: the POSTed message; absent for other methods (and in step 1). */
  readonly mcp?: McpMessageFacts;
}

export interface CallVerdict {
  readonly effect: Effect;
  readonly rule: CompiledRule | null;
  /** The enforced policy decision (side_effects, idempotency, approval); null when scope alone governs. */
  readonly decision: Decision | null;
  /** What decided: the HTTP-level rules, the message's rules, or scope alone (SPEC §3). */
  readonly basis: 'http' | 'message' | 'scope';
  readonly why: string;
}

// SPEC §3: the discovery and transport messages, governed by scope alone.
const DISCOVERY: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'resources/list',
  'resources/templates/list',
  'prompts/list',
]);

/** True for a message governed by scope alone: discovery, notifications/*, or a JSON-RPC response. */
export function isScopeOnlyMessage(method: string | undefined): boolean {
  return method === undefined || DISCOVERY.has(method) || method.startsWith('notifications/');
}

/** SPEC §3: the MCP endpoint is POST, GET (stream) and DELETE on the tool's root path. */
export function isMcpEndpoint(method: string, path: string): boolean {
  return path === '/' && (method === 'POST' || method === 'GET' || method === 'DELETE');
}

/** Step 1 alone (the gateway runs it before reading the body): a refusal verdict, or undefined to go on. */
export function httpGate(policy: PolicySnapshot, facts: CallFacts): CallVerdict | undefined {
  if (facts.protocol !== 'mcp') return undefined;
  const verdict = httpLevel(policy, facts);
  return verdict.effect === 'deny' ? verdict : undefined;
}

export function decideCall(policy: PolicySnapshot, facts: CallFacts): CallVerdict {
  if (facts.protocol !== 'mcp') return fromDecision(policy.evaluate(baseFacts(facts)), 'http');
  const http = httpLevel(policy, facts);
  if (http.effect === 'deny') return http;
  const method = facts.method.toUpperCase();
  const message = method === 'POST' ? facts.mcp : undefined;
  if (message !== undefined && !isScopeOnlyMessage(message.method)) {
    return fromDecision(policy.evaluate(messageFacts(facts, message)), 'message');
  }
  if (!isMcpEndpoint(method, facts.path)) return http;
  const what = message === undefined ? `${method} on the MCP endpoint` : `the ${message.method ?? 'JSON-RPC response'} message`;
  return { effect: 'allow', rule: null, decision: null, basis: 'scope', why: `${what} is governed by scope and deny rules alone` };
}

function httpLevel(policy: PolicySnapshot, facts: CallFacts): CallVerdict {
  const decision = policy.evaluate(baseFacts(facts));
  const endpoint = isMcpEndpoint(facts.method.toUpperCase(), facts.path);
  // The endpoint needs no allow rule: only a deny rule that matched refuses it here.
  if (decision.effect === 'deny' && (decision.rule !== null || !endpoint)) return fromDecision(decision, 'http');
  return endpoint ? { ...fromDecision(decision, 'http'), effect: 'allow' } : fromDecision(decision, 'http');
}

function fromDecision(decision: Decision, basis: 'http' | 'message'): CallVerdict {
  const why = decision.rule
    ? `rule ${decision.rule.id} (${decision.rule.effect}) decided: deny beats require_approval beats allow`
    : 'no enforced rule matched this call: default deny (no rule decided)';
  return { effect: decision.effect, rule: decision.rule, decision, basis, why };
}

function baseFacts(facts: CallFacts): RequestFacts {
  return { agentId: facts.agentId, roles: facts.roles, tool: facts.tool, method: facts.method.toUpperCase(), path: facts.path };
}

/** The facts policy.evaluate sees for a governed message. */
export function messageFacts(facts: CallFacts, message: McpMessageFacts): RequestFacts {
  return {
    ...baseFacts(facts),
    ...(message.method !== undefined && { mcpMethod: message.method }),
    ...(message.tool !== undefined && { mcpTool: message.tool }),
    ...(message.resource !== undefined && { mcpResource: message.resource }),
    ...(message.prompt !== undefined && { mcpPrompt: message.prompt }),
  };
}
