// An in-process gateway for the adversarial suite: the shared test config plus the limits under test,
// an operational log captured in memory (to check it never holds a secret), and helpers to open sessions
// and read the metrics that must stay at zero.
import { readFileSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { startGateway, type RunningGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { AGENT_SECRET, writeGatewayFiles } from './gateway.js';
import { expect } from 'vitest';
import { bearer, call, postJson } from './client.js';

export interface HostileGateway {
  readonly gw: RunningGateway;
  readonly dir: string;
  readonly auditFile: string;
  readonly data: string;
  readonly control: string;
  /** Operational log lines (pino JSON) written so far. */
  readonly logs: string[];
  auditText(): string;
  auditRecords(): Record<string, any>[];
  close(): Promise<void>;
}

export interface HostileOptions {
  readonly upstreamUrl: string;
  /** YAML lines for `limits:` (two-space indented under it). */
  readonly limits?: string;
  /** YAML lines added to the billing tool (four-space indented). */
  readonly billing?: string;
  readonly maxBodyBytes?: number;
  readonly policy?: string;
}

export async function startHostileGateway(options: HostileOptions): Promise<HostileGateway> {
  const files = writeGatewayFiles({
    upstreamUrl: options.upstreamUrl,
    maxBodyBytes: options.maxBodyBytes ?? 65_536,
    ...(options.policy ? { policy: options.policy } : {}),
  });
  let text = readFileSync(files.configFile, 'utf8');
  if (options.limits) text = text.replace('\ntools:\n', `\nlimits:\n${options.limits}\ntools:\n`);
  if (options.billing) text = text.replace(/(max_body_bytes: \d+\n)/, `$1${options.billing}\n`);
  writeFileSync(files.configFile, text);
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const gw = await startGateway({ config: loadConfig(files.configFile), logger, watchPolicies: false, sweepIntervalMs: 3_600_000 });
  const auditText = (): string => readFileSync(files.auditFile, 'utf8');
  return {
    gw,
    dir: files.dir,
    auditFile: files.auditFile,
    data: gw.dataUrl,
    control: gw.controlUrl,
    logs,
    auditText,
    auditRecords: () =>
      auditText()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, any>),
    close: () => gw.close(0),
  };
}

export interface OpenSession {
  readonly sessionId: string;
  readonly token: string;
}

export async function openSession(control: string, taskId: string): Promise<OpenSession> {
  const reply = await postJson(`${control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: taskId });
  if (reply.status !== 201) throw new Error(`session create answered ${reply.status}: ${reply.text}`);
  return { sessionId: reply.json.session_id as string, token: reply.json.token as string };
}

/** The value of an unlabelled counter on /metrics. */
export async function counter(control: string, name: string): Promise<number> {
  const text = (await call(`${control}/metrics`)).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

/** A new session is created and its call reaches the tool: the process is alive and serving. */
export async function expectStillServing(gateway: HostileGateway, task: string): Promise<void> {
  const fresh = await openSession(gateway.control, task);
  const reply = await call(`${gateway.data}/tools/billing/invoices/1`, { headers: bearer(fresh.token) });
  expect(reply.status).toBe(200);
}
