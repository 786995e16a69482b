// Strict zod schema of the operator config file (SPEC §2). Unknown keys are errors; defaults are the
// ones SPEC §2 shows. Messages never echo a value: values may hold substituted secrets.
import { z } from 'zod';
import { parseListen } from './listen.js';
import { parseDuration } from '../util/duration.js';

// SPEC §2 / §8: tool names as they appear in /tools/{tool}/…
export const TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

// RFC 9110 §5.1 field-name = token; §5.5 field-value = visible characters, SP and HTAB, no leading or
// trailing whitespace (CR, LF and NUL would split or truncate the header).
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\x20-\x7e\x80-\xff\t]*[\x21-\x7e\x80-\xff])?)?$/;

// Hop-by-hop headers (RFC 9110 §7.6.1) and framing headers are per connection; the ones the gateway sets
// itself (SPEC §8) would be silently overwritten. Injecting any of them is refused at load.
const FORBIDDEN_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'host', 'content-length', 'forwarded', 'x-request-id', 'traceparent',
]);
const FORBIDDEN_HEADER_PREFIXES = ['x-forwarded-', 'x-epochgate-'];

const nonEmpty = z.string().min(1, 'must not be empty');

const listenAddress = z.string().transform((text, ctx) => {
  const parsed = parseListen(text);
  if (parsed.ok) return parsed.address;
  ctx.addIssue({ code: 'custom', message: parsed.error });
  return z.NEVER;
});

/** An absolute http(s) URL without credentials, query or fragment; trailing slash stripped. */
function baseUrl(what: string) {
  return z.string().transform((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${what} must be an absolute http:// or https:// URL` });
      return z.NEVER;
    }
    const problem =
      url.protocol !== 'http:' && url.protocol !== 'https:' ? 'must use http:// or https://'
      : url.username !== '' || url.password !== '' ? 'must not carry credentials (inject a header instead)'
      : url.search !== '' || text.includes('?') ? 'must not have a query'
      : url.hash !== '' || text.includes('#') ? 'must not have a fragment'
      : undefined;
    if (problem) {
      ctx.addIssue({ code: 'custom', message: `${what} ${problem}` });
      return z.NEVER;
    }
    url.pathname = url.pathname.replace(/\/+$/, '');
    return url;
  });
}

const headers = z.record(z.string(), z.string()).transform((raw, ctx) => {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    const lower = name.toLowerCase();
    const problem =
      !HEADER_NAME.test(name) ? 'is not a valid header name'
      : FORBIDDEN_HEADERS.has(lower) || FORBIDDEN_HEADER_PREFIXES.some((p) => lower.startsWith(p)) ? 'may not be injected (hop-by-hop or set by the gateway)'
      : !HEADER_VALUE.test(value) ? 'has an invalid value (control characters or surrounding whitespace)'
      : Object.hasOwn(out, lower) ? 'is given twice (header names are case-insensitive)'
      : undefined;
    if (problem) ctx.addIssue({ code: 'custom', path: [name], message: `header ${problem}` });
    else out[lower] = value;
  }
  return out;
});

const positiveInt = (max: number) => z.int().min(1, 'must be a positive integer').max(max, `must be at most ${max}`);

const toolSchema = z
  .object({
    upstream: baseUrl('upstream'),
    protocol: z.enum(['http', 'mcp']).default('http'),
    headers: headers.prefault({}),
    timeout_ms: positiveInt(3_600_000).default(30_000),
    max_body_bytes: positiveInt(1024 * 1024 * 1024).default(1_048_576),
    forward_cookies: z.boolean().default(false),
    // SPEC §2: the tool's upstream connection pool, and how long an open response stream may stay silent.
    max_connections: positiveInt(65_536).default(128),
    stream_idle_timeout_ms: positiveInt(86_400_000).default(300_000),
  })
  .strict();

// SPEC §10 retention: how long ledger entry metadata outlives its closed window or final session.
const ledgerRetention = z
  .string()
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms !== undefined) return ms;
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 7d, 12h or 30m' });
    return z.NEVER;
  })
  .prefault('7d');

// SPEC §17: a postgres:// or postgresql:// URL. It usually carries a password (often substituted from the
// environment), so no message here ever repeats it or any part of it.
const postgresUrl = z.string().refine(
  (text) => {
    if (!/^postgres(?:ql)?:\/\//.test(text)) return false;
    try {
      return new URL(text).hostname !== '';
    } catch {
      return false;
    }
  },
  { message: 'must be a postgres:// or postgresql:// URL with a host' },
);

const storeSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('sqlite'),
      path: nonEmpty.default('../var/epochgate.db'),
      // SPEC §14: fencing writes are durable (FULL) unless the operator configures otherwise.
      synchronous: z.enum(['full', 'normal']).default('full'),
      ledger_retention: ledgerRetention,
    })
    .strict(),
  z
    .object({
      kind: z.literal('postgres'),
      url: postgresUrl,
      // SPEC §17: connections per replica; the database's max_connections bounds replicas × pool_size.
      pool_size: z.int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(10),
      // SPEC §17: a replica silent this long is gone (its in-flight ledger entries become unknown).
      replica_timeout_ms: z.int().min(1000, 'must be at least 1000').max(3_600_000, 'must be at most 3600000').default(30_000),
      ledger_retention: ledgerRetention,
    })
    .strict(),
  z.object({ kind: z.literal('memory'), ledger_retention: ledgerRetention }).strict(),
]);

// SPEC §18 "Notifications": the events a webhook may subscribe to.
export const NOTIFICATION_EVENTS = [
  'approval.request', 'approval.approve', 'approval.deny', 'approval.expire', 'session.revoke', 'ledger.unknown',
] as const;

/** A webhook target: http(s) only. Credentials or a query are allowed (some receivers put their own secret
 *  there); they are never shown back (GET /v1/notifications strips them). */
const webhookUrl = z.string().transform((text, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:')) return url.href;
  ctx.addIssue({ code: 'custom', message: 'url must be an absolute http:// or https:// URL' });
  return z.NEVER;
});

const webhookSchema = z
  .object({
    url: webhookUrl,
    // Never logged or echoed: config messages never quote values (see the header of this file).
    secret: nonEmpty,
    events: z
      .array(z.enum(NOTIFICATION_EVENTS))
      .min(1, 'must name at least one event')
      .refine((events) => new Set(events).size === events.length, 'must not name an event twice'),
    format: z.enum(['json', 'slack']).default('json'),
  })
  .strict();

const notificationsSchema = z
  .object({
    webhooks: z
      .array(webhookSchema)
      .default([])
      // A delivery names its webhook by URL (the outbox keeps no secret), so URLs are unique.
      .refine((hooks) => new Set(hooks.map((h) => h.url)).size === hooks.length, 'webhook urls must be distinct'),
  })
  .strict();

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const configFileSchema = z
  .object({
    listen: z
      .object({ data: listenAddress.prefault('127.0.0.1:8080'), control: listenAddress.prefault('127.0.0.1:8081') })
      .strict()
      .prefault({}),
    public_url: baseUrl('public_url').optional(),
    tokens: z
      .object({
        issuer: nonEmpty.default('epochgate'),
        audience: nonEmpty.default('epochgate'),
        keys: nonEmpty.default('../var/keys.json'),
      })
      .strict()
      .prefault({}),
    store: storeSchema.prefault({ kind: 'sqlite' }),
    policies: nonEmpty.default('../policies'),
    notifications: notificationsSchema.prefault({}),
    // The approver web console at the control plane's /console/; public_url is where people reach it
    // (default: the control listener's URL + /console), used for approval_url links and the cookie's Secure flag.
    console: z
      .object({ enabled: z.boolean().default(false), public_url: baseUrl('console.public_url').optional() })
      .strict()
      .prefault({}),
    audit: z.object({ path: nonEmpty.default('-') }).strict().prefault({}),
    log: z.object({ level: z.enum(LOG_LEVELS).default('info') }).strict().prefault({}),
    limits: z
      .object({
        max_header_bytes: positiveInt(1024 * 1024).default(16_384),
        request_timeout_ms: positiveInt(86_400_000).default(60_000),
        shutdown_grace_ms: z.int().min(0, 'must not be negative').max(3_600_000, 'must be at most 3600000').default(10_000),
        headers_timeout_ms: positiveInt(3_600_000).default(10_000),
        max_connections: positiveInt(1_000_000).default(10_000),
        max_inflight_per_session: positiveInt(100_000).default(64),
      })
      .strict()
      .prefault({}),
    tools: z
      .record(z.string().regex(TOOL_NAME, 'tool names match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}'), toolSchema)
      .refine((tools) => Object.keys(tools).length > 0, 'at least one tool must be configured'),
  })
  .strict();

export type ConfigFile = z.output<typeof configFileSchema>;
