import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../store/types.js';

export interface Readiness {
  /** False before start-up completes and from the moment SIGTERM arrives (SPEC §14). */
  ready: boolean;
  /** SPEC §13: not ready while the audit stream cannot be written (liveness is unaffected). */
  auditAvailable?: () => boolean;
}

/** /livez, /readyz and /healthz (alias of /readyz) on both listeners. Returns false if not a health path. */
export function serveHealth(req: IncomingMessage, res: ServerResponse, store: Store, readiness: Readiness): boolean {
  const path = req.url?.split('?', 1)[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (path === '/livez') {
    reply(res, 200, { status: 'ok' });
    return true;
  }
  if (path !== '/readyz' && path !== '/healthz') return false;
  if (!readiness.ready) {
    reply(res, 503, { status: 'not_ready' });
    return true;
  }
  if (readiness.auditAvailable && !readiness.auditAvailable()) {
    reply(res, 503, { status: 'audit_unavailable' });
    return true;
  }
  store.ping().then(
    () => reply(res, 200, { status: 'ok' }),
    () => reply(res, 503, { status: 'store_unavailable' }),
  );
  return true;
}

// The prober may be gone by the time the store answers (DESIGN rule 15): then there is nothing to send.
function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  try {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  } catch {
    res.destroy();
  }
}
