// A tiny billing API for the demo and the benchmark: invoices to read, refunds to create.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SampleTool {
  readonly url: string;
  readonly server: Server;
  /** How many requests reached the tool (to show what the gateway kept away). */
  calls: number;
  close(): Promise<void>;
}

/** `host`: 127.0.0.1 by default; docker-compose.yml runs it as a service of its own on 0.0.0.0. */
export async function startSampleTool(port = 0, host = '127.0.0.1'): Promise<SampleTool> {
  const tool = { calls: 0 } as SampleTool & { calls: number };
  const server = createServer((req, res) => {
    tool.calls++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const invoice = /^\/api\/invoices\/([^/?]+)/.exec(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (invoice) {
        res.end(JSON.stringify({ invoice: invoice[1], amount_cents: 12_500, seen_epoch: req.headers['x-epochgate-epoch'] }));
      } else {
        res.statusCode = req.method === 'POST' ? 201 : 404;
        res.end(JSON.stringify({ path: req.url, bytes: Buffer.concat(chunks).length }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  return Object.assign(tool, {
    url: `http://127.0.0.1:${bound}`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
