// What the rest of the gateway sees of a loaded policy revision. Built once per (re)load by
// policy/compile.ts, frozen, and swapped as one reference (DESIGN rule 6).
import type { JWTVerifyGetKey } from 'jose';

export type Effect = 'allow' | 'deny' | 'require_approval';

export type AgentCredential =
  | { readonly type: 'secret'; readonly sha256: string }
  | {
      readonly type: 'jwt';
      readonly issuer: string;
      readonly subject: string;
      /** Key resolver built at load (jose local or remote JWK set); remote ones fail closed. */
      readonly keys: JWTVerifyGetKey;
    };

export interface AgentDef {
  readonly id: string;
  readonly enabled: boolean;
  readonly roles: readonly string[];
  /** ms since epoch; tokens and assertions issued earlier are refused. */
  readonly notBefore: number | null;
  readonly credentials: readonly AgentCredential[];
}

export interface PersonDef {
  readonly id: string;
  readonly roles: readonly string[];
  /** Lowercase hex SHA-256 digests of the person's secrets. */
  readonly secretSha256: readonly string[];
}

export interface ApprovalSpec {
  readonly approvers: readonly string[];
  readonly ttlMs: number;
  readonly holdMs: number;
}

export interface CompiledRule {
  readonly id: string;
  readonly effect: Effect;
  readonly mode: 'enforce' | 'shadow';
  readonly file: string;
  /** undefined = every agent. Matches when the agent holds one of the roles OR is one of the agents. */
  readonly roles?: readonly string[];
  readonly agents?: readonly string[];
  readonly tools?: readonly string[];
  readonly methods?: readonly string[];
  /** Glob sources, kept for explain output; matching uses compiled matchers. */
  readonly paths?: readonly string[];
  readonly mcpTools?: readonly string[];
  /** JSON-RPC method globs, resource URI globs, prompt name globs (SPEC §3); sources kept for explain. */
  readonly mcpMethods?: readonly string[];
  readonly mcpResources?: readonly string[];
  readonly mcpPrompts?: readonly string[];
  readonly approval?: ApprovalSpec;
  readonly sideEffects?: boolean;
  readonly idempotency: 'optional' | 'required';
}

export interface SessionDefaults {
  readonly tokenTtlMs: number;
  readonly leaseTtlMs: number;
  readonly maxAgeMs: number;
  readonly maxResumes: number;
}

/** Input to an evaluation. Pure data; no clock, no I/O. */
export interface RequestFacts {
  readonly agentId: string;
  readonly roles: readonly string[];
  readonly tool: string;
  readonly method: string;
  /** Normalised path below the tool, starting with "/". */
  readonly path: string;
  /** The JSON-RPC method of a governed MCP message (SPEC §3); absent for a plain HTTP request and for the
   *  HTTP-level check of a request to an MCP tool. `mcpTool` alone implies "tools/call". */
  readonly mcpMethod?: string;
  /** MCP tools/call params.name, when the call is one. */
  readonly mcpTool?: string;
  /** params.uri of resources/read, resources/subscribe, resources/unsubscribe. */
  readonly mcpResource?: string;
  /** params.name of prompts/get. */
  readonly mcpPrompt?: string;
}

/** Which MCP list answers of a tool are filtered (SPEC §11: where a rule of that tool names them). */
export interface McpListFilters {
  readonly resources: boolean;
  readonly prompts: boolean;
}

export interface Decision {
  /** What is enforced. 'deny' with rule null = no rule matched (default deny). */
  readonly effect: Effect;
  /** The rule that decided, or null for the default deny. */
  readonly rule: CompiledRule | null;
  /** Every enforced rule whose selectors matched, in file order. */
  readonly matched: readonly CompiledRule[];
  /** Shadow rules that matched, and what they would have decided on their own. */
  readonly shadow: readonly CompiledRule[];
  /** SPEC §3 default: true for POST, PUT, PATCH, DELETE and MCP tools/call, unless the deciding rule says. */
  readonly sideEffects: boolean;
  readonly idempotency: 'optional' | 'required';
}

export interface PolicySnapshot {
  /** Content hash of the revision (hex). */
  readonly revision: string;
  readonly loadedAt: number;
  readonly files: readonly string[];
  readonly agents: ReadonlyMap<string, AgentDef>;
  readonly people: ReadonlyMap<string, PersonDef>;
  readonly rules: readonly CompiledRule[];
  readonly sessions: SessionDefaults;
  /** Non-fatal findings (e.g. a role no agent holds). */
  readonly warnings: readonly string[];
  evaluate(facts: RequestFacts): Decision;
  /** Whether resources/list and prompts/list answers of `tool` are filtered. */
  mcpListFilters(tool: string): McpListFilters;
  /** Tools the agent can reach through an enforced allow or require_approval rule (for scope). */
  reachableTools(agent: AgentDef): ReadonlySet<string>;
}
