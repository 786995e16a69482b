// An in-process gateway on port 0 with a real SQLite file, real key file and real policy files,
// loaded through the same config loader as `epochgate serve`.
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { sha256Hex } from '../../src/util/hash.js';
import type { Clock } from '../../src/util/clock.js';
import type { Store } from '../../src/store/types.js';

export const AGENT_SECRET = 'test-agent-secret-0123456789';
export const OTHER_AGENT_SECRET = 'test-other-secret-0123456789';
export const ADMIN_SECRET = 'test-admin-secret-0123456789';
export const APPROVER_SECRET = 'test-approver-secret-0123456789';
export const INJECTED_KEY = 'upstream-injected-key-do-not-leak';

/** A policy with two agents, an admin and an approver, and the rules most tests need. */
export function defaultPolicy(extraRules = ''): string {
  return `apiVersion: epochgate/v1
kind: Policy
agents:
  billing-bot:
    roles: [billing-agent]
    credentials:
      - type: secret
        sha256: "${sha256Hex(AGENT_SECRET)}"
  other-bot:
    roles: [billing-agent]
    credentials:
      - type: secret
        sha256: "${sha256Hex(OTHER_AGENT_SECRET)}"
people:
  sec-admin:
    roles: [admin]
    credentials: [{ type: secret, sha256: "${sha256Hex(ADMIN_SECRET)}" }]
  alice:
    roles: [finance-approver]
    credentials: [{ type: secret, sha256: "${sha256Hex(APPROVER_SECRET)}" }]
rules:
  - id: billing-read
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [GET, HEAD, POST]
    paths: ["/invoices/**", "/stream", "/slow", "/echo/**"]
  - id: refunds-need-approval
    effect: require_approval
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/refunds"]
    approval: { approvers: [finance-approver], ttl: 1h, hold: 0s }
  - id: never-admin
    effect: deny
    tools: [billing]
    paths: ["/admin/**"]
  - id: crm-all
    effect: allow
    roles: [billing-agent]
    tools: [crm]
${extraRules}`;
}

export interface TestGateway {
  gw: RunningGateway;
  dir: string;
  configFile: string;
  policyDir: string;
  auditFile: string;
  control: string;
  data: string;
  auditRecords(): Record<string, any>[];
  writePolicy(yaml: string, file?: string): void;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  upstreamUrl: string;
  crmUrl?: string;
  policy?: string;
  clock?: Clock;
  dir?: string;
  toolTimeoutMs?: number;
  /** timeout_ms of the crm (MCP) tool; the config default when absent. */
  crmTimeoutMs?: number;
  maxBodyBytes?: number;
  /** Operational log level; spawned gateways need at least info for the listening line. */
  logLevel?: string;
  /** How often the live-call registry re-checks sessions with open calls (the app's default when absent). */
  liveRecheckMs?: number;
  /** Top-level YAML appended to the config (e.g. a `limits` block). */
  extraConfig?: string;
  /** A store shared with another in-process gateway (replicas); the configured SQLite file is then unused. */
  store?: Store;
  /** Webhook delivery worker settings (attempt timeout, jitter). */
  notifications?: GatewayOptions['notifications'];
}

export function writeGatewayFiles(options: TestGatewayOptions): { dir: string; configFile: string; policyDir: string; auditFile: string } {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'epochgate-test-'));
  const policyDir = join(dir, 'policies');
  mkdirSync(policyDir, { recursive: true });
  if (!existsSync(join(policyDir, 'main.yaml'))) writeFileSync(join(policyDir, 'main.yaml'), options.policy ?? defaultPolicy());
  const configFile = join(dir, 'epochgate.yaml');
  writeFileSync(
    configFile,
    `listen:
  data: "127.0.0.1:0"
  control: "127.0.0.1:0"
tokens:
  keys: keys.json
store:
  kind: sqlite
  path: state/epochgate.db
policies: policies
audit:
  path: audit.log
log:
  level: ${options.logLevel ?? 'silent'}
tools:
  billing:
    upstream: "${options.upstreamUrl}/api"
    headers:
      X-Api-Key: "${INJECTED_KEY}"
    timeout_ms: ${options.toolTimeoutMs ?? 5000}
    max_body_bytes: ${options.maxBodyBytes ?? 65536}
  crm:
    upstream: "${options.crmUrl ?? options.upstreamUrl}/mcp"
    protocol: mcp
${options.crmTimeoutMs !== undefined ? `    timeout_ms: ${options.crmTimeoutMs}\n` : ''}${options.extraConfig ?? ''}`,
  );
  return { dir, configFile, policyDir, auditFile: join(dir, 'audit.log') };
}

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const files = writeGatewayFiles(options);
  const config = loadConfig(files.configFile);
  const gw = await startGateway({
    config,
    logger: pino({ level: 'silent' }),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.liveRecheckMs !== undefined ? { liveRecheckMs: options.liveRecheckMs } : {}),
    ...(options.store ? { store: options.store } : {}),
    ...(options.notifications ? { notifications: options.notifications } : {}),
    watchPolicies: false,
    sweepIntervalMs: 3_600_000,
  });
  return {
    gw,
    ...files,
    control: gw.controlUrl,
    data: gw.dataUrl,
    auditRecords: () =>
      readFileSync(files.auditFile, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, any>),
    writePolicy: (yaml, file = 'main.yaml') => writeFileSync(join(files.policyDir, file), yaml),
    close: () => gw.close(0),
  };
}
