// Start-up phase: the two listeners (SPEC §1) and the three adapters mounted on them — the data plane on
// one, the control API and the console on the other.
import { createServer, type Server, type ServerOptions } from 'node:http';
import { resolve } from 'node:path';
import type { AnchoredAuditStream } from '../audit/anchors.js';
import type { GatewayConfig } from '../config/types.js';
import { ConsoleAuth } from '../console/console-auth.js';
import { handleConsole, isConsolePath } from '../console/console-server.js';
import { InboxStreams } from '../console/inbox-stream.js';
import { serveHealth, type Readiness } from '../control/health.js';
import { handleControl } from '../control/server.js';
import { closeServer, listen } from '../http/listeners.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import { runDataPlane } from '../pipeline/run.js';
import type { KeyRing } from '../sessions/key-ring.js';
import type { GatewayServices } from './services.js';
import type { StartContext } from './start-context.js';

export interface Adapters {
  readonly services: GatewayServices;
  readonly audit: AnchoredAuditStream;
  readonly metrics: GatewayMetrics;
  readonly keys: KeyRing;
  readonly readiness: Readiness;
}

export interface GatewayServers {
  readonly data: Server;
  readonly control: Server;
  readonly consoleAuth: ConsoleAuth;
  readonly consoleStreams: InboxStreams;
}

/** Builds both listeners and binds them; fills ctx.urls once the addresses are known. */
export async function startServers(ctx: StartContext, adapters: Adapters): Promise<GatewayServers> {
  const { config, logger, urls } = ctx;
  const servers = buildServers(ctx, adapters);
  // SPEC §2: per listener; further connections are closed at accept.
  servers.data.maxConnections = config.limits.maxConnections;
  servers.control.maxConnections = config.limits.maxConnections;
  urls.data = await listen(servers.data, config.listen.data);
  ctx.onFailure(() => closeServer(servers.data, 0));
  urls.control = await listen(servers.control, config.listen.control);
  ctx.onFailure(() => closeServer(servers.control, 0));
  urls.public = config.publicUrl || urls.data;
  urls.console = config.console.publicUrl || `${urls.control}/console`;
  // DESIGN rule 15: an accept error after start (EMFILE in a connection flood) is logged, never fatal.
  for (const server of [servers.data, servers.control]) server.on('error', (err) => logger.error({ err }, 'listener error'));
  return servers;
}

function buildServers(ctx: StartContext, adapters: Adapters): GatewayServers {
  const { config, store, clock, logger, urls, options } = ctx;
  const { services: s, audit, metrics, keys, readiness } = adapters;
  const consoleEnabled = config.console.enabled;
  const pipelineDeps = {
    config, policy: s.policy, verifier: s.verifier, lifecycle: s.lifecycle, store, clock, audit, metrics, dispatchers: s.dispatchers,
    logger, live: s.live, wakeups: s.wakeups, replicaId: ctx.replicaId, approvalSignal: s.approvalSignal,
    consoleUrl: () => (consoleEnabled ? urls.console : null),
  };
  const consoleAuth = new ConsoleAuth({ store, clock, policy: s.policy });
  const consoleStreams = new InboxStreams();
  const consoleDeps = {
    store, policy: s.policy, approvals: s.approvals, actions: s.actions, audit, clock, logger, metrics, signal: s.approvalSignal,
    auth: consoleAuth, streams: consoleStreams, publicUrl: () => urls.console,
    ...(options.consolePollMs !== undefined ? { pollMs: options.consolePollMs } : {}),
    ...consoleFromConfig(ctx),
  };
  const controlDeps = {
    store, policy: s.policy, sessions: s.sessions, actions: s.actions, approvals: s.approvals, keys, metrics,
    verifier: s.verifier, lifecycle: s.lifecycle, audit, clock, logger, publicUrl: () => urls.public,
  };
  const data = createServer(serverOptions(config), (req, res) => {
    if (serveHealth(req, res, store, readiness)) return;
    void runDataPlane(pipelineDeps, req, res);
  });
  const control = createServer(serverOptions(config), (req, res) => {
    if (serveHealth(req, res, store, readiness)) return;
    // The console is a separate adapter on the same listener (SPEC §18); disabled, its paths are the API's 404.
    if (consoleEnabled && isConsolePath(req.url)) void handleConsole(consoleDeps, req, res);
    else void handleControl(controlDeps, req, res);
  });
  return { data, control, consoleAuth, consoleStreams };
}

/** What the console takes from the config: the audit file its session pages read back, and the only origin
 *  its POSTs may come from when console.public_url is set. */
function consoleFromConfig(ctx: StartContext): { auditFile?: string; fixedOrigin?: string } {
  // Only a file this process opened itself: not stdout, not an audit log injected by a test.
  const ownFile = ctx.options.audit === undefined && ctx.config.audit.path !== '-';
  const publicUrl = ctx.config.console.publicUrl;
  return {
    ...(ownFile ? { auditFile: resolve(ctx.config.audit.path) } : {}),
    ...(publicUrl !== null ? { fixedOrigin: new URL(publicUrl).origin } : {}),
  };
}

function serverOptions(config: GatewayConfig): ServerOptions {
  return {
    maxHeaderSize: config.limits.maxHeaderBytes,
    requestTimeout: config.limits.requestTimeoutMs,
    // Node refuses a headers timeout longer than the request timeout.
    headersTimeout: Math.min(config.limits.requestTimeoutMs, config.limits.headersTimeoutMs),
    // Node enforces both timeouts only when it sweeps its connections (default every 30 s): sweep often
    // enough that a slow-header client is cut near headers_timeout_ms, not up to 30 s later.
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(config.limits.headersTimeoutMs / 4))),
  };
}
