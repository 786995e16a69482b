// `npm run sample-tool` serves the sample billing API and the CRM MCP server (official SDK) side by side;
// an SDK client can use the MCP server as served (stateless, JSON answers by default).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

describe('e2e: npm run sample-tool', () => {
  it('serves the billing API and the CRM MCP server, which an SDK client can list and call', async () => {
    const script = fileURLToPath(new URL('../../dist/demo/sample-tool-main.js', import.meta.url));
    const child = spawn(process.execPath, [script], { env: { ...process.env, SAMPLE_TOOL_PORT: '0', SAMPLE_MCP_PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const mcpUrl = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          const match = /CRM MCP server listening on (\S+)/.exec(out);
          if (match && out.includes('sample billing API listening on')) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`sample-tool exited ${code}: ${out}`)));
      });
      const client = new Client({ name: 'sample-check', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('delete_customer');
      const found = await client.callTool({ name: 'search_customers', arguments: { query: 'turing' } });
      expect(found.content).toEqual([{ type: 'text', text: '["2"]' }]);
      await client.close();
    } finally {
      child.kill('SIGTERM');
    }
  });
});
