// Operator config loader (SPEC §2): YAML (with lines) → ${NAME} substitution → strict zod validation →
// absolute paths → frozen GatewayConfig. Every problem is collected and reported at once.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { substituteEnv, type EnvIssue } from './env.js';
import { at, zodIssues, type FileIssue } from './file-issues.js';
import { deepFreeze, FrozenMap } from '../util/freeze.js';
import { parseListen } from './listen.js';
import { configFileSchema, type ConfigFile } from './schema.js';
import type { GatewayConfig, ListenAddress, StoreConfig, ToolConfig } from './types.js';
import { parseYaml } from './yaml-source.js';

export { ConfigError } from './config-error.js';

export interface ListenOverrides {
  /** --listen-data HOST:PORT */
  readonly listenData?: string;
  /** --listen-control HOST:PORT */
  readonly listenControl?: string;
}

export function loadConfig(file: string, overrides: ListenOverrides = {}, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const absolute = resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, path: '', message: `cannot read the config file (${(err as NodeJS.ErrnoException).code ?? 'error'})` }]);
  }
  const source = parseYaml(file, text);
  if (source.issues.length > 0) throw new ConfigError(source.issues);
  if (source.value === null || source.value === undefined) throw new ConfigError([{ file, path: '', message: 'the config file is empty' }]);

  const envIssues: EnvIssue[] = [];
  const substituted = substituteEnv(source.value, env, envIssues);
  const issues: FileIssue[] = envIssues.map((issue) => at(file, issue.path, source.locate, issue.message));
  const parsed = configFileSchema.safeParse(substituted);
  if (!parsed.success) {
    // A value whose variable was missing already has its issue; its schema complaint would be noise.
    const envPaths = new Set(issues.map((issue) => issue.path));
    issues.push(...zodIssues(file, parsed.error, source.locate).filter((issue) => !envPaths.has(issue.path)));
  }
  const listenData = override('--listen-data', overrides.listenData, issues);
  const listenControl = override('--listen-control', overrides.listenControl, issues);
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);

  return deepFreeze(build(absolute, parsed.data, listenData, listenControl));
}

function override(flag: string, value: string | undefined, issues: FileIssue[]): ListenAddress | undefined {
  if (value === undefined) return undefined;
  const parsed = parseListen(value);
  if (parsed.ok) return parsed.address;
  issues.push({ file: flag, path: '', message: parsed.error });
  return undefined;
}

function build(file: string, raw: ConfigFile, listenData?: ListenAddress, listenControl?: ListenAddress): GatewayConfig {
  // SPEC §2: relative paths resolve against the config file's directory, not the working directory.
  const base = dirname(file);
  const path = (p: string) => resolve(base, p);
  return {
    file,
    listen: { data: listenData ?? raw.listen.data, control: listenControl ?? raw.listen.control },
    publicUrl: raw.public_url === undefined ? null : raw.public_url.href.replace(/\/+$/, ''),
    tokens: { issuer: raw.tokens.issuer, audience: raw.tokens.audience, keysPath: path(raw.tokens.keys) },
    store: storeConfig(raw.store, path),
    policiesDir: path(raw.policies),
    notifications: {
      webhooks: raw.notifications.webhooks.map((h) => ({ url: h.url, secret: h.secret, events: h.events, format: h.format })),
    },
    console: { enabled: raw.console.enabled, publicUrl: raw.console.public_url === undefined ? null : raw.console.public_url.href.replace(/\/+$/, '') },
    audit: { path: raw.audit.path === '-' ? '-' : path(raw.audit.path) },
    log: { level: raw.log.level },
    limits: limitsConfig(raw.limits),
    tools: toolConfigs(raw.tools),
  };
}

function storeConfig(raw: ConfigFile['store'], path: (p: string) => string): StoreConfig {
  const ledgerRetentionMs = raw.ledger_retention;
  if (raw.kind === 'sqlite') return { kind: 'sqlite', path: path(raw.path), synchronous: raw.synchronous, ledgerRetentionMs };
  if (raw.kind === 'postgres') return { kind: 'postgres', url: raw.url, poolSize: raw.pool_size, replicaTimeoutMs: raw.replica_timeout_ms, ledgerRetentionMs };
  return { kind: 'memory', ledgerRetentionMs };
}

function toolConfigs(raw: ConfigFile['tools']): FrozenMap<string, ToolConfig> {
  return new FrozenMap<string, ToolConfig>(
    Object.entries(raw).map(([name, tool]) => [
      name,
      {
        name,
        upstream: tool.upstream,
        protocol: tool.protocol,
        headers: tool.headers,
        timeoutMs: tool.timeout_ms,
        maxBodyBytes: tool.max_body_bytes,
        forwardCookies: tool.forward_cookies,
        maxConnections: tool.max_connections,
        streamIdleTimeoutMs: tool.stream_idle_timeout_ms,
      },
    ]),
  );
}

function limitsConfig(raw: ConfigFile['limits']): GatewayConfig['limits'] {
  return {
    maxHeaderBytes: raw.max_header_bytes,
    requestTimeoutMs: raw.request_timeout_ms,
    shutdownGraceMs: raw.shutdown_grace_ms,
    headersTimeoutMs: raw.headers_timeout_ms,
    maxConnections: raw.max_connections,
    maxInflightPerSession: raw.max_inflight_per_session,
  };
}
