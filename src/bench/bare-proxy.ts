// The baseline for `npm run bench`: a bare Node pass-through proxy (node:http + undici stream), no checks.
// Run as a child process: `node dist/bench/bare-proxy.js <upstream-origin>`; prints its URL on stdout.
// It forwards the agent's headers minus hop-by-hop ones and streams bodies both ways: the least a proxy
// must do, so the gateway's ratio to it is the price of the gateway's guarantees.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, stream } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: bare-proxy.js <upstream-origin>');
const dispatcher = new Agent({ connections: 128 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'te', 'trailer', 'proxy-connection', 'expect']);

function requestHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (!HOP_BY_HOP.has(name)) out[name] = raw[i + 1] as string;
  }
  out['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  return out;
}

const server = createServer((req, res) => {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  stream(
    `${upstream}${req.url ?? '/'}`,
    { method: req.method as 'GET', headers: requestHeaders(req), body: hasBody ? req : null, dispatcher },
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
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
// A clean exit on SIGTERM, so `node --cpu-prof dist/bench/bare-proxy.js` writes its profile.
process.on('SIGTERM', () => process.exit(0));
