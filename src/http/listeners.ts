// Binding and draining the gateway's two HTTP listeners (SPEC §1, §14).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const formatHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/** Binds and answers the listener's URL (ports given as 0 are chosen by the OS). */
export function listen(server: Server, address: { readonly host: string; readonly port: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      const bound = server.address() as AddressInfo;
      const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      resolve(`http://${host}:${bound.port}`);
    });
  });
}

/** Stops accepting, lets in-flight requests finish for up to graceMs, then cuts what is left. */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    // A keep-alive connection that goes idle after close() was called would otherwise hold the drain
    // open until its keep-alive timeout: close idle ones as they appear.
    const idleSweep = setInterval(() => server.closeIdleConnections(), 25);
    server.close(() => {
      clearTimeout(timer);
      clearInterval(idleSweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}
