// A TCP relay in front of the test PostgreSQL server, to cut the network under a running Store and bring
// it back on the same address (a database that goes away and returns, SPEC §14), without touching the
// server other test files share.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface PgProxy {
  /** The target URL with host and port replaced by the relay's. */
  readonly url: string;
  /** Stops accepting and destroys every relayed connection (both sides). */
  cut(): Promise<void>;
  /** Accepts again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startPgProxy(targetUrl: string): Promise<PgProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const relay = (client: Socket): void => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
  let server: Server = createServer(relay);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  const port = await listen(0);
  const closeServer = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    async cut() {
      const closing = closeServer();
      for (const s of sockets) s.destroy();
      await closing;
    },
    async restore() {
      server = createServer(relay);
      await listen(port);
    },
    async close() {
      const closing = closeServer();
      for (const s of sockets) s.destroy();
      await closing;
    },
  };
}
