// The official MCP SDK on both sides of the gateway: the sample CRM server (McpServer) behind a test gateway
// that runs the shipped policies/crm.yaml next to the test policy, and SDK clients connected through it.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startSampleMcp, type SampleMcp, type SampleMcpOptions } from '../../src/demo/sample-mcp.js';
import { AGENT_SECRET, defaultPolicy, startTestGateway, type TestGateway } from './gateway.js';
import { bearer, postJson } from './client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// An HTTP rule for one sub-path of the MCP tool: messages posted there are governed by it and by crm.yaml.
const TENANT_RULE = `  - id: crm-tenant-b
    effect: allow
    roles: [billing-agent]
    tools: [crm]
    methods: [POST]
    paths: ["/tenant-b"]
  - id: crm-quiet-logs
    effect: deny
    tools: [crm]
    mcp_methods: ["logging/setLevel"]
`;

/** A gateway dir with the test policy (no crm-all rule) and the shipped policies/crm.yaml. */
function gatewayDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-mcp-sdk-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies', 'main.yaml'), defaultPolicy(TENANT_RULE).replace(/  - id: crm-all\n[\s\S]*?tools: \[crm\]\n/, ''));
  copyFileSync(join(ROOT, 'policies', 'crm.yaml'), join(dir, 'policies', 'crm.yaml'));
  return dir;
}

export async function startPair(options: SampleMcpOptions, crmTimeoutMs?: number): Promise<{ crm: SampleMcp; t: TestGateway }> {
  const crm = await startSampleMcp(options);
  const base = crm.url.replace(/\/mcp$/, '');
  const t = await startTestGateway({ upstreamUrl: base, crmUrl: base, dir: gatewayDir(), ...(crmTimeoutMs ? { crmTimeoutMs } : {}) });
  return { crm, t };
}

let tasks = 0;
export async function openSession(t: TestGateway): Promise<{ session_id: string; token: string }> {
  const res = await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: `sdk-${++tasks}` });
  expect(res.status).toBe(201);
  return res.json;
}

/** Closed by closeClients() after each test. */
const clients: Client[] = [];
export async function connect(t: TestGateway, token: string, suffix = ''): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${t.data}/tools/crm${suffix}`), { requestInit: { headers: bearer(token) } });
  const client = new Client({ name: 'epochgate-test-agent', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}


export const problemOf = (result: any) => result._meta?.['io.epochgate/problem'] as Record<string, any> | undefined;
export const textOf = (result: any) => (result.content as { type: string; text: string }[])[0]!.text;

export async function mcpCode(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
  } catch (err) {
    return err instanceof McpError ? err.code : -1;
  }
  return undefined;
}

export async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
}
