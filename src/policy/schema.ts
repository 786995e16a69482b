// Strict zod schema of one policy file (SPEC §3). Checks that need more than one file (duplicates, tool
// names, jwks files) live in load.ts; glob compilation in compile.ts. Unknown keys are errors.
import { z } from 'zod';
import { parseDuration } from '../util/duration.js';
import { compileNameGlob, compilePathGlob, compileUriGlob, type GlobResult } from '../util/glob.js';

// Agent, person, role and rule identifiers appear in tokens, audit records and URLs: keep them plain.
const IDENT = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;
const IDENT_MESSAGE = 'must match [A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}';
// RFC 9110 §9.1: a method is a token; compared upper-cased (policy authors write "get" too).
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** SPEC §4 / §9: `admin` is a people role (list/revoke sessions); agents never hold it. */
export const ADMIN_ROLE = 'admin';

const ident = z.string().regex(IDENT, IDENT_MESSAGE);
const list = <T extends z.ZodType>(item: T) => z.array(item).min(1, 'must not be empty (omit the key to mean "every")');

function duration(options: { min: number; max?: number }) {
  return z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration: an integer followed by ms, s, m, h or d' });
      return z.NEVER;
    }
    if (ms < options.min) ctx.addIssue({ code: 'custom', message: options.min > 0 ? 'must be greater than zero' : 'must not be negative' });
    if (options.max !== undefined && ms > options.max) ctx.addIssue({ code: 'custom', message: `must be at most ${options.max} ms` });
    return ms;
  });
}

function globs(compile: (pattern: string) => GlobResult) {
  return list(
    z.string().superRefine((pattern, ctx) => {
      const result = compile(pattern);
      if (!result.ok) ctx.addIssue({ code: 'custom', message: `bad glob: ${result.error}` });
    }),
  );
}

const secretCredential = z
  .object({ type: z.literal('secret'), sha256: z.string().regex(SHA256_HEX, 'must be 64 lowercase hex characters (SHA-256 of the secret)') })
  .strict();

const jwtCredential = z
  .object({
    type: z.literal('jwt'),
    issuer: z.string().min(1, 'must not be empty'),
    subject: z.string().min(1, 'must not be empty'),
    jwks_file: z.string().min(1, 'must not be empty').optional(),
    jwks_url: z
      .string()
      .refine((text) => URL.canParse(text) && /^https?:$/.test(new URL(text).protocol), 'must be an absolute http(s) URL')
      .optional(),
  })
  .strict()
  .superRefine((cred, ctx) => {
    if ((cred.jwks_file === undefined) === (cred.jwks_url === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'exactly one of jwks_file or jwks_url is required' });
    }
  });

const agentSchema = z
  .object({
    enabled: z.boolean().default(true),
    roles: z.array(ident).default([]),
    not_before: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time, e.g. 2026-11-01T00:00:00Z' }).optional(),
    credentials: z.array(z.discriminatedUnion('type', [secretCredential, jwtCredential])).min(1, 'at least one credential is required'),
  })
  .strict()
  .superRefine((agent, ctx) => {
    if (agent.roles.includes(ADMIN_ROLE)) ctx.addIssue({ code: 'custom', path: ['roles'], message: '"admin" is reserved for people' });
  });

// People authenticate with a bearer secret only (SPEC §4).
const personSchema = z
  .object({
    roles: z.array(ident).default([]),
    credentials: z.array(secretCredential).min(1, 'at least one credential is required'),
  })
  .strict();

const approvalSchema = z
  .object({
    approvers: list(ident),
    ttl: duration({ min: 1 }),
    hold: duration({ min: 0, max: 600_000 }),
  })
  .strict()
  .superRefine((approval, ctx) => {
    // SPEC §9 separation of duties: `admin` alone never decides an approval.
    if (approval.approvers.includes(ADMIN_ROLE)) ctx.addIssue({ code: 'custom', path: ['approvers'], message: '"admin" cannot be an approver role' });
  });

const ruleSchema = z
  .object({
    id: ident,
    effect: z.enum(['allow', 'deny', 'require_approval']),
    mode: z.enum(['enforce', 'shadow']).default('enforce'),
    roles: list(ident).optional(),
    agents: list(ident).optional(),
    tools: list(z.string().min(1)).optional(),
    methods: list(z.string().regex(METHOD, 'must be an HTTP method token')).optional(),
    paths: globs(compilePathGlob).optional(),
    mcp_tools: globs(compileNameGlob).optional(),
    mcp_methods: globs(compileNameGlob).optional(),
    mcp_resources: globs(compileUriGlob).optional(),
    mcp_prompts: globs(compileNameGlob).optional(),
    approval: approvalSchema.optional(),
    side_effects: z.boolean().optional(),
    idempotency: z.enum(['optional', 'required']).default('optional'),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (rule.roles !== undefined && rule.agents !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['agents'], message: 'set roles or agents, not both' });
    }
    if (rule.roles?.includes(ADMIN_ROLE)) ctx.addIssue({ code: 'custom', path: ['roles'], message: '"admin" is reserved for people' });
    checkMcpSelectors(rule, ctx);
    if (rule.effect === 'require_approval' && rule.approval === undefined) {
      ctx.addIssue({ code: 'custom', path: ['approval'], message: 'required when effect is require_approval' });
    }
    if (rule.effect !== 'require_approval' && rule.approval !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['approval'], message: 'only allowed when effect is require_approval' });
    }
  });

// SPEC §3: the methods each MCP selector governs. A selector whose methods the rule's own mcp_methods
// exclude could never match: a load error, never a rule that silently does nothing (DESIGN rule 4).
export const RESOURCE_METHODS: readonly string[] = ['resources/read', 'resources/subscribe', 'resources/unsubscribe'];
export const PROMPT_METHODS: readonly string[] = ['prompts/get'];

interface McpSelectors {
  readonly methods?: readonly string[] | undefined;
  readonly mcp_tools?: readonly string[] | undefined;
  readonly mcp_methods?: readonly string[] | undefined;
  readonly mcp_resources?: readonly string[] | undefined;
  readonly mcp_prompts?: readonly string[] | undefined;
}

function checkMcpSelectors(rule: McpSelectors, ctx: z.RefinementCtx): void {
  const selector = (['mcp_tools', 'mcp_methods', 'mcp_resources', 'mcp_prompts'] as const).find((key) => rule[key] !== undefined);
  // MCP messages are POSTed: a rule that names one and excludes POST could never match (a deny that never fires).
  if (selector && rule.methods !== undefined && !rule.methods.some((m) => m.toUpperCase() === 'POST')) {
    ctx.addIssue({ code: 'custom', path: ['methods'], message: `must include POST: ${selector} matches POSTed MCP messages only` });
  }
  if (rule.mcp_methods === undefined) return;
  const methods = rule.mcp_methods.map((glob) => compileNameGlob(glob)).flatMap((r) => (r.ok ? [r.match] : []));
  const covers = (names: readonly string[]) => names.some((name) => methods.some((match) => match(name)));
  if (rule.mcp_resources !== undefined && !covers(RESOURCE_METHODS)) {
    ctx.addIssue({ code: 'custom', path: ['mcp_resources'], message: `mcp_methods must include one of ${RESOURCE_METHODS.join(', ')} for mcp_resources to apply` });
  }
  if (rule.mcp_prompts !== undefined && !covers(PROMPT_METHODS)) {
    ctx.addIssue({ code: 'custom', path: ['mcp_prompts'], message: 'mcp_methods must include prompts/get for mcp_prompts to apply' });
  }
}

const sessionsSchema = z
  .object({
    // SPEC §6 step 3: a token whose exp - iat exceeds 24h is refused, so a longer ttl could never work.
    token_ttl: duration({ min: 1, max: 86_400_000 }).optional(),
    lease_ttl: duration({ min: 1 }).optional(),
    max_age: duration({ min: 1 }).optional(),
    max_resumes: z.int().min(0, 'must not be negative').max(1_000_000, 'must be at most 1000000').optional(),
  })
  .strict();

export const policyFileSchema = z
  .object({
    apiVersion: z.literal('epochgate/v1'),
    kind: z.literal('Policy'),
    agents: z.record(ident, agentSchema).optional(),
    people: z.record(ident, personSchema).optional(),
    rules: z.array(ruleSchema).optional(),
    sessions: sessionsSchema.optional(),
  })
  .strict();

export type PolicyFile = z.output<typeof policyFileSchema>;
export type PolicyRuleInput = NonNullable<PolicyFile['rules']>[number];
