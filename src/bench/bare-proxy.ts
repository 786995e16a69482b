// The baseline for `npm run bench`: a bare Node pass-through proxy (node:http + undici stream), no checks.
// Run as a child process: `node dist/bench/bare-proxy.js <upstream-url>`; prints its URL on stdout.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, stream } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: bare-proxy.js <upstream-url>');
const dispatcher = new Agent({ connections: 128 });

const server = createServer((req, res) => {
  stream(
    `${upstream}${req.url ?? '/'}`,
    { method: req.method as 'GET', headers: { 'x-forwarded-for': req.socket.remoteAddress ?? '' }, body: req.method === 'GET' ? null : req, dispatcher },
    ({ statusCode, headers }) => {
      const clean = { ...headers };
      delete clean.connection;
      delete clean['keep-alive'];
      delete clean['transfer-encoding'];
      res.writeHead(statusCode, clean as Record<string, string>);
      return res;
    },
  ).catch(() => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
