// `npm run sample-tool`: the demo's billing API on 127.0.0.1:9001 and its CRM MCP server (official MCP SDK)
// on 127.0.0.1:9002/mcp, where the example config (config/epochgate.yaml) expects them, so the README's
// quick starts work end to end.
import { startSampleMcp } from './sample-mcp.js';
import { startSampleTool } from './sample-tool.js';

const port = Number(process.env.SAMPLE_TOOL_PORT ?? 9001);
const mcpPort = Number(process.env.SAMPLE_MCP_PORT ?? 9002);
// docker-compose.yml runs the sample tools as a service of their own, reached by the replicas over the network.
const host = process.env.SAMPLE_TOOL_HOST ?? '127.0.0.1';
Promise.all([startSampleTool(port, host), startSampleMcp({
    port: mcpPort,
    host,
    // Stateless JSON by default, so the README's curl calls need no MCP session and read plain JSON; SDK
    // clients work either way. SAMPLE_MCP_STATEFUL=1 / SAMPLE_MCP_SSE=1 switch to the other SDK modes.
    stateless: process.env.SAMPLE_MCP_STATEFUL !== '1',
    json: process.env.SAMPLE_MCP_SSE !== '1',
  })]).then(
  ([tool, crm]) => {
    process.stdout.write(`sample billing API listening on ${tool.url}/api (invoices: GET /api/invoices/<id>)\n`);
    process.stdout.write(`sample CRM MCP server listening on ${crm.url} (tools, resources crm://customers/<id>, prompts)\n`);
  },
  (err: unknown) => {
    process.stderr.write(`sample-tool: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
