// SPEC §11, §18: with the console enabled, an MCP client that declared URL-mode elicitation (MCP
// 2025-11-25) gets approval_required as the URL-elicitation-required error (-32042) pointing at the
// approval's console page; a client that did not gets the tool result, whose text names the same URL.
// The official SDK on both sides (the repository's sample CRM server).
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import { startSampleMcp, type SampleMcp } from '../../src/demo/sample-mcp.js';
import { AGENT_SECRET, defaultPolicy, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, postJson } from '../helpers/client.js';
import { CONSOLE_CONFIG } from '../helpers/console-fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARGS = { name: 'update_customer', arguments: { id: '1', email: 'new@example.com' } };

describe('approval_required to MCP clients with the console enabled', () => {
  let crm: SampleMcp;
  let t: TestGateway;
  const clients: Client[] = [];
  let tasks = 0;

  beforeAll(async () => {
    crm = await startSampleMcp({});
    const base = crm.url.replace(/\/mcp$/, '');
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-console-mcp-'));
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'policies', 'main.yaml'), defaultPolicy().replace(/  - id: crm-all\n[\s\S]*?tools: \[crm\]\n/, ''));
    copyFileSync(join(ROOT, 'policies', 'crm.yaml'), join(dir, 'policies', 'crm.yaml'));
    t = await startTestGateway({ upstreamUrl: base, crmUrl: base, dir, extraConfig: CONSOLE_CONFIG });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await t.close();
    await crm.close();
  });

  const connect = async (capabilities: ConstructorParameters<typeof Client>[1]): Promise<Client> => {
    const res = await postJson(`${t.control}/v1/sessions`, { agent_id: 'billing-bot', client_secret: AGENT_SECRET, task_id: `console-mcp-${++tasks}` });
    expect(res.status).toBe(201);
    const transport = new StreamableHTTPClientTransport(new URL(`${t.data}/tools/crm`), { requestInit: { headers: bearer(res.json.token) } });
    const client = new Client({ name: 'epochgate-test-agent', version: '1.0.0' }, capabilities);
    await client.connect(transport);
    clients.push(client);
    return client;
  };

  it('answers a client that declared URL-mode elicitation with -32042 pointing at the approval page', async () => {
    const client = await connect({ capabilities: { elicitation: { url: {} } } });
    const failure = await client.callTool(ARGS).then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(UrlElicitationRequiredError);
    const error = failure as UrlElicitationRequiredError;
    expect(error.code).toBe(-32042);
    expect(error.elicitations).toHaveLength(1);
    const [elicitation] = error.elicitations;
    expect(elicitation).toMatchObject({ mode: 'url', url: `${t.control}/console/approvals/${elicitation!.elicitationId}` });
    expect(elicitation!.elicitationId).toMatch(/^apr_/);
    // The SDK keeps only the elicitations of error.data; the message names the page too.
    expect(elicitation!.message).toContain(elicitation!.url);
    expect(error.message).toContain(elicitation!.url);
    expect(crm.ran).toEqual([]);
  });

  it('answers a client without it (form mode only, or none) with the tool result naming the URL', async () => {
    for (const capabilities of [{ elicitation: { form: {} } }, {}]) {
      const client = await connect({ capabilities });
      const result = await client.callTool(ARGS);
      expect(result.isError).toBe(true);
      const problem = (result._meta as Record<string, any>)['io.epochgate/problem'];
      expect(problem.approval_url).toBe(`${t.control}/console/approvals/${problem.approval_id}`);
      expect((result.content as { text: string }[])[0]!.text).toContain(`(${problem.approval_url})`);
    }
  });
});
