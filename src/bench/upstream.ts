// The tool API every bench target talks to, run as its own process (`node dist/bench/upstream.js`; prints
// its URL on stdout) so its CPU is not taken from the load generator or the proxies being measured.
// Routes: GET /api/small (~200 B JSON), POST /api/orders and /api/payments (reads the body, 201 with a
// small JSON), GET /api/blob (256 KiB), and /mcp: a real MCP server built with the official SDK
// (stateless Streamable HTTP, JSON responses) with one tool, `echo`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export const BLOB_BYTES = 256 * 1024;
const SMALL = Buffer.from(
  JSON.stringify({ invoice: 'inv_42', amount_cents: 12_500, currency: 'EUR', status: 'paid', customer: 'cus_7', lines: [{ sku: 'a', qty: 1 }], note: 'x'.repeat(80) }),
);
const BLOB = Buffer.alloc(BLOB_BYTES, 'a');

function json(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// Stateless Streamable HTTP: one server and transport per request, as the SDK documents for stateless use.
async function serveMcp(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const server = new McpServer({ name: 'bench-tools', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echoes its text', inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined);
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readAll(req);
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/mcp' || path === '/mcp/') return serveMcp(req, res, body);
  if (path === '/api/small' && req.method === 'GET') return json(res, 200, SMALL);
  if (path === '/api/blob' && req.method === 'GET') return json(res, 200, BLOB);
  if ((path === '/api/orders' || path === '/api/payments') && req.method === 'POST') {
    return json(res, 201, Buffer.from(JSON.stringify({ id: 'ord_1', received: body.length })));
  }
  json(res, 404, Buffer.from('{"error":"not found"}'));
}

const server = createServer((req, res) => {
  route(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
