// A small CRM MCP server for the demo, the README's MCP quick start and the integration tests, built with
// the official MCP TypeScript SDK (McpServer + StreamableHTTPServerTransport), so what the gateway is shown
// to work with is a real MCP server, not a mock. It has tools, resources and prompts that the shipped
// policy (policies/crm.yaml) allows, sends for approval, or denies.
//
// Modes (the two Streamable HTTP server styles the SDK offers): stateful (the server mints an
// Mcp-Session-Id at initialize) or stateless (a fresh server per request); answers as SSE (default) or
// as JSON (`json: true`).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface SampleMcpOptions {
  readonly port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** No MCP sessions: a fresh server and transport per request. */
  readonly stateless?: boolean;
  /** Answer with application/json instead of an SSE stream. */
  readonly json?: boolean;
  /** Awaited before a tool runs (tests hold a call in flight with it). */
  readonly beforeTool?: (name: string) => Promise<void>;
}

export interface SampleMcp {
  /** Base URL of the MCP endpoint (…/mcp). */
  readonly url: string;
  /** Every HTTP request that reached the server: what the gateway let through. */
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  /** tools/call, resources/read and prompts/get that ran, e.g. "tools/call add_note". */
  readonly ran: string[];
  close(): Promise<void>;
}

const CUSTOMERS: Record<string, { name: string; email: string }> = {
  '1': { name: 'Ada Lovelace', email: 'ada@example.com' },
  '2': { name: 'Alan Turing', email: 'alan@example.com' },
};

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

/** One McpServer with the CRM's tools, resources and prompts; `ran` records what was executed. */
export function buildCrmServer(ran: string[], options: SampleMcpOptions = {}): McpServer {
  // logging: so logging/setLevel exists (policy governs it through mcp_methods, like completion/complete).
  const server = new McpServer({ name: 'sample-crm', version: '1.0.0' }, { capabilities: { logging: {} } });
  const tool = (name: string, description: string, shape: z.ZodRawShape, run: (args: Record<string, unknown>) => string) =>
    server.registerTool(name, { description, inputSchema: shape }, async (args: Record<string, unknown>) => {
      await options.beforeTool?.(name);
      ran.push(`tools/call ${name}`);
      return text(run(args));
    });
  tool('search_customers', 'Find customers by name', { query: z.string() }, (a) =>
    JSON.stringify(Object.entries(CUSTOMERS).filter(([, c]) => c.name.toLowerCase().includes(String(a.query).toLowerCase())).map(([id]) => id)),
  );
  tool('get_customer', 'Read one customer', { id: z.string() }, (a) => JSON.stringify(CUSTOMERS[String(a.id)] ?? null));
  tool('add_note', 'Add a note to a customer (a side effect)', { id: z.string(), note: z.string() }, (a) => `note ${ran.length} added to customer ${String(a.id)}`);
  tool('update_customer', 'Change a customer e-mail (needs approval)', { id: z.string(), email: z.string() }, (a) => `customer ${String(a.id)} now ${String(a.email)}`);
  tool('delete_customer', 'Delete a customer (denied by policy)', { id: z.string() }, (a) => `customer ${String(a.id)} deleted`);
  const customers = new ResourceTemplate('crm://customers/{id}', {
    list: () => ({ resources: Object.entries(CUSTOMERS).map(([id, c]) => ({ uri: `crm://customers/${id}`, name: c.name })) }),
  });
  server.registerResource('customer', customers, { description: 'A customer record' }, (uri, vars) => {
    ran.push(`resources/read ${uri.href}`);
    return { contents: [{ uri: uri.href, text: JSON.stringify(CUSTOMERS[String(vars.id)] ?? null) }] };
  });
  server.registerResource('audit-log', 'crm://internal/audit-log', { description: 'Internal audit log (denied by policy)' }, (uri) => {
    ran.push(`resources/read ${uri.href}`);
    return { contents: [{ uri: uri.href, text: 'secret' }] };
  });
  const prompt = (name: string, description: string) =>
    server.registerPrompt(name, { description, argsSchema: { id: completable(z.string(), (value) => Object.keys(CUSTOMERS).filter((id) => id.startsWith(value))) } }, ({ id }) => {
      ran.push(`prompts/get ${name}`);
      return { messages: [{ role: 'user', content: { type: 'text', text: `${description} for customer ${id}` } }] };
    });
  prompt('summarise_customer', 'Summarise the customer');
  prompt('export_everything', 'Export every record (denied by policy)');
  return server;
}

export async function startSampleMcp(options: SampleMcpOptions = {}): Promise<SampleMcp> {
  const requests: SampleMcp['requests'] = [];
  const ran: string[] = [];
  const handle = options.stateless ? statelessHandler(ran, options) : statefulHandler(ran, options);
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (!(req.url ?? '').startsWith('/mcp')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    ran,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

// The SDK's stateless mode: a transport cannot be reused across requests, so each gets its own.
function statelessHandler(ran: string[], options: SampleMcpOptions): Handler {
  return async (req, res) => {
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: options.json ?? false });
    const server = buildCrmServer(ran, options);
    res.on('close', () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    await transport.handleRequest(req, res);
  };
}

// The SDK's stateful mode: initialize creates a transport and session; later requests name it.
function statefulHandler(ran: string[], options: SampleMcpOptions): Handler {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  return async (req, res) => {
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    if (known) return known.handleRequest(req, res);
    if (typeof id === 'string' || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}');
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: options.json ?? false,
      onsessioninitialized: (sessionId) => void sessions.set(sessionId, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await buildCrmServer(ran, options).connect(transport);
    await transport.handleRequest(req, res);
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}
