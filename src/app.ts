// Composition root: builds every module once, wires them, starts both listeners. Wiring only, no logic.
import { SYSTEM_ACTOR } from './audit/envelope.js';
import { createServer } from 'node:http';
import type { Logger } from 'pino';
import { guardAuditLog } from './audit/audit-guard.js';
import { anchorAuditStream } from './audit/anchors.js';
import { openAuditLog } from './audit/file-audit-log.js';
import type { AuditLog } from './audit/types.js';
import type { GatewayConfig } from './config/types.js';
import { closeServer, formatHost, listen } from './http/listeners.js';
import type { RunningGateway } from './app-types.js';
import { sweepAll } from './util/sweep-all.js';
import { serveHealth, type Readiness } from './control/health.js';
import { handleControl } from './control/server.js';
import { GatewayMetrics } from './metrics/metrics.js';
import { runDataPlane } from './pipeline/run.js';
import { PolicyHolder } from './policy/holder.js';
import { watchPolicyDir } from './policy/watch.js';
import { createAgentAuthenticator } from './sessions/agent-auth.js';
import { SessionLifecycle } from './sessions/lifecycle.js';
import { SessionActions } from './sessions/session-actions.js';
import { SessionService } from './sessions/session-service.js';
import { ApprovalService } from './approvals/approval-service.js';
import { loadOrCreateSigningKeys } from './sessions/signing-keys.js';
import { createTokenVerifier } from './sessions/token-verify.js';
import { KeyRing } from './sessions/key-ring.js';
import { reloadSigningKeys } from './sessions/key-reload.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/types.js';
import { createDispatchers } from './upstream/dispatchers.js';
import { systemClock, type Clock } from './util/clock.js';
import { PRODUCT_VERSION } from './version.js';
import { policyAuditHooks } from './policy/reload-audit.js';
import { ReplicaPresence } from './ledger/replica-presence.js';
import { newReplicaId } from './util/ids.js';
import { recoverApprovals } from './approvals/recovery.js';
import { LiveCalls } from './live/live-calls.js';
import { sessionWatch } from './live/session-watch.js';
import { DecisionWakeups } from './approvals/decision-wakeups.js';
import { openSignals } from './store/open-signals.js';
import { notifyingAudit } from './notify/audit-hook.js';
import { consoleLink } from './notify/console-link.js';
import { Notifier } from './notify/notifier.js';
import { DeliveryWorker } from './notify/worker.js';
import { ApprovalSignal } from './approvals/approval-signal.js';
import { ConsoleAuth } from './console/console-auth.js';
import { handleConsole, isConsolePath } from './console/console-server.js';
import { InboxStreams } from './console/inbox-stream.js';

export interface GatewayOptions {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** How often idle sessions are checked for lease expiry and max_age (default 1 s). */
  readonly sweepIntervalMs?: number;
  /** Watch the policy directory for changes (default true). */
  readonly watchPolicies?: boolean;
  /** How often sessions with live calls are re-read from the store (default 300 ms). */
  readonly liveRecheckMs?: number;
  /** An audit log to use instead of the configured one (tests). */
  readonly audit?: AuditLog;
  /** A store to use instead of the configured one, left open by close() (tests: two replicas sharing one). */
  readonly store?: Store;
  /** This process's replica id (default: a new random one per start). */
  readonly replicaId?: string;
  /** How often a console's live inbox re-reads the store (default 1 s). */
  readonly consolePollMs?: number;
  /** Webhook delivery worker settings (tests inject the jitter and shorten the attempt timeout). */
  readonly notifications?: { readonly random?: () => number; readonly intervalMs?: number; readonly timeoutMs?: number };
}

export type { GatewayNotifications, RunningGateway } from './app-types.js';

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const readiness: Readiness = { ready: false };
  const store = options.store ?? (await openStore(config.store));
  const closeStore = options.store ? async () => {} : () => store.close();
  const cleanup: (() => unknown)[] = [closeStore];
  const replicaId = options.replicaId ?? newReplicaId();
  // Change signals between replicas: a hint to re-read the store sooner; polling stays the fallback.
  const signals = await openSignals(config.store, replicaId, (err) => logger.warn({ err }, 'store change signal failed'));
  cleanup.push(() => signals.close());
  try {
    // SPEC §17: this replica's public keys are published before any listener accepts.
    const keys = await KeyRing.open(await loadOrCreateSigningKeys(config.tokens.keysPath, clock), { store: store.keys, clock });
    const injected = options.audit;
    const written: AuditLog = injected ? { write: injected.write.bind(injected), close: () => {}, ...(injected.head ? { head: injected.head.bind(injected) } : {}) } : openAuditLog({ path: config.audit.path, productVersion: PRODUCT_VERSION });
    // SPEC §13: a failed write refuses requests and retries; it never stops the process.
    const guarded = guardAuditLog(written, { clock, logger });
    // SPEC §13 "Anchors": signed chain heads in the audit stream and in the store, so a cut tail shows.
    const anchored = anchorAuditStream(guarded, {
      clock, logger, store: store.anchors, signingKey: () => keys.usableSigningKey(),
      head: () => (written.head ? written.head() : undefined),
    });
    cleanup.push(() => anchored.close());
    const metrics = new GatewayMetrics(store);
    // SPEC §18: every audit record passes the notifier, which enqueues webhook deliveries in the store.
    let controlUrl = '';
    const worker = new DeliveryWorker({
      store: store.notifications, webhooks: config.notifications.webhooks, clock, logger, ...options.notifications,
      onOutcome: (outcome) => metrics.notificationDeliveries.inc({ outcome }),
      onError: () => metrics.notificationErrors.inc({ stage: 'deliver' }),
    });
    cleanup.push(() => worker.stop());
    const notifier = new Notifier({
      store, webhooks: config.notifications.webhooks, clock, logger,
      // Before the control listener is bound (start-up recovery), its configured address stands in.
      consoleLink: () => consoleLink(config, controlUrl || `http://${formatHost(config.listen.control.host)}:${config.listen.control.port}`),
      onEnqueued: () => worker.wake(),
      onError: () => metrics.notificationErrors.inc({ stage: 'enqueue' }),
    });
    cleanup.push(() => notifier.flush());
    const audit = notifyingAudit(anchored, (record) => notifier.observe(record));
    readiness.auditAvailable = audit.isAvailable;
    // SPEC §10, §17: calls a stopped replica left in flight have an unknown outcome; before any listener opens.
    const timeoutMs = config.store.kind === 'postgres' ? config.store.replicaTimeoutMs : undefined;
    const presence = new ReplicaPresence({ store, audit, clock, replicaId, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    await presence.start();
    // SPEC §9.4: approvals a stopped process left open on a closed or revoked session expire now.
    await recoverApprovals(store, audit, clock);
    const toolNames = new Set(config.tools.keys());
    const policy = await PolicyHolder.create({
      dir: config.policiesDir,
      toolNames,
      clock,
      ...policyAuditHooks(audit, metrics, logger, clock),
    });
    const lifecycle = new SessionLifecycle(store, clock, audit);
    // SPEC §8: in-flight calls and open streams by session; fenced on every session change.
    const live = new LiveCalls({
      maxPerSession: config.limits.maxInflightPerSession,
      ...sessionWatch({ store, lifecycle, policy, clock }),
      onError: (err) => logger.warn({ err }, 'live-call re-check failed'),
      ...(options.liveRecheckMs !== undefined ? { intervalMs: options.liveRecheckMs } : {}),
    });
    lifecycle.onChange((session) => live.sessionChanged(session));
    // SPEC §8, §17: a change made here ends held calls and streams on the other replicas within 1 s.
    lifecycle.onChange((session) => void signals.publish({ kind: 'session', sessionId: session.sessionId }));
    signals.subscribe((change) => {
      if (change.kind === 'session' && change.origin !== replicaId) live.poke(change.sessionId);
    });
    const wakeups = new DecisionWakeups(signals);
    const verifier = createTokenVerifier({ resolveKey: (kid) => keys.keyFor(kid), issuer: config.tokens.issuer, audience: config.tokens.audience, clock });
    const dispatchers = createDispatchers(config.tools);
    cleanup.push(() => dispatchers.close());
    const agentAuth = createAgentAuthenticator({ store, issuer: config.tokens.issuer, clock });

    let publicUrl = config.publicUrl ?? '';
    // SPEC §18: the console's public URL defaults to the control listener's URL + /console.
    let consoleUrl = config.console.publicUrl ?? '';
    const approvalSignal = new ApprovalSignal();
    const sessions = new SessionService({
      store, clock, policy, agentAuth, keys, lifecycle, metrics,
      tokens: { issuer: config.tokens.issuer, audience: config.tokens.audience },
    });
    const actions = new SessionActions(store, clock, lifecycle);
    const approvals = new ApprovalService({ store, clock, policy, audit, signals, signal: approvalSignal });
    const consoleEnabled = config.console.enabled;
    const pipelineDeps = {
      config, policy, verifier, lifecycle, store, clock, audit, metrics, dispatchers, logger, live, wakeups, replicaId, approvalSignal,
      consoleUrl: () => (consoleEnabled ? consoleUrl : null),
    };
    const consoleAuth = new ConsoleAuth({ store, clock, policy });
    const consoleStreams = new InboxStreams();
    const consoleDeps = {
      store, policy, approvals, actions, audit, clock, logger, metrics, signal: approvalSignal, auth: consoleAuth,
      streams: consoleStreams, publicUrl: () => consoleUrl, ...(options.consolePollMs !== undefined ? { pollMs: options.consolePollMs } : {}),
    };
    const controlDeps = { store, policy, sessions, actions, approvals, keys, metrics, verifier, lifecycle, audit, clock, logger, publicUrl: () => publicUrl };

    const serverOptions = {
      maxHeaderSize: config.limits.maxHeaderBytes,
      requestTimeout: config.limits.requestTimeoutMs,
      // Node refuses a headers timeout longer than the request timeout.
      headersTimeout: Math.min(config.limits.requestTimeoutMs, config.limits.headersTimeoutMs),
      // Node enforces both timeouts only when it sweeps its connections (default every 30 s): sweep often
      // enough that a slow-header client is cut near headers_timeout_ms, not up to 30 s later.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(config.limits.headersTimeoutMs / 4))),
    };
    const dataServer = createServer(serverOptions, (req, res) => {
      if (serveHealth(req, res, store, readiness)) return;
      void runDataPlane(pipelineDeps, req, res);
    });
    const controlServer = createServer(serverOptions, (req, res) => {
      if (serveHealth(req, res, store, readiness)) return;
      // The console is a separate adapter on the same listener (SPEC §18); disabled, its paths are the API's 404.
      if (consoleEnabled && isConsolePath(req.url)) void handleConsole(consoleDeps, req, res);
      else void handleControl(controlDeps, req, res);
    });
    // SPEC §2: per listener; further connections are closed at accept.
    dataServer.maxConnections = config.limits.maxConnections;
    controlServer.maxConnections = config.limits.maxConnections;
    const dataUrl = await listen(dataServer, config.listen.data);
    cleanup.push(() => closeServer(dataServer, 0));
    controlUrl = await listen(controlServer, config.listen.control);
    cleanup.push(() => closeServer(controlServer, 0));
    publicUrl ||= dataUrl;
    consoleUrl ||= `${controlUrl}/console`;
    // DESIGN rule 15: an accept error after start (EMFILE in a connection flood) is logged, never fatal.
    for (const server of [dataServer, controlServer]) server.on('error', (err) => logger.error({ err }, 'listener error'));

    // Approvals past their ttl are expired (and audited) even when no call touches them again (SPEC §9).
    // Each step runs even when an earlier one failed: a failing session sweep must not stop the heartbeat
    // (the other replicas would take this one for gone). The first failure is thrown afterwards. Lapsed
    // console sign-ins are removed on the same beat (not counted: they are not sessions).
    const purgeConsole = async (): Promise<number> => {
      if (consoleEnabled) await consoleAuth.purge();
      return 0;
    };
    const sweep = () => sweepAll([purgeConsole, () => lifecycle.sweep(policy.current()), () => approvals.sweep(), () => presence.sweep()]);
    const sweepTimer = setInterval(() => {
      sweep().catch((err: unknown) => logger.warn({ err }, 'session sweep failed'));
    }, options.sweepIntervalMs ?? 1000);
    sweepTimer.unref();
    const stopWatching = options.watchPolicies === false ? () => {} : watchPolicyDir(config.policiesDir, () => {
      policy.reload().catch((err: unknown) => logger.error({ err }, 'policy reload failed'));
    });

    live.start();
    cleanup.push(() => live.dispose());
    worker.start();
    audit.write({ event: 'gateway.start', time: clock.now(), status: 'ok', actor: SYSTEM_ACTOR, policyRevision: policy.current().revision, extra: { data_url: dataUrl, control_url: controlUrl, store: store.kind, replica_id: replicaId } });
    readiness.ready = true;

    let closing: Promise<void> | undefined;
    return {
      dataUrl,
      controlUrl,
      consoleUrl: consoleEnabled ? consoleUrl : null,
      store,
      replicaId,
      policy,
      metrics,
      notifications: {
        deliverNow: async () => {
          await notifier.flush();
          worker.wake();
          await worker.idle();
        },
      },
      reloadPolicy: async () => (await policy.reload()).ok,
      reloadKeys: () => reloadSigningKeys({ ring: keys, path: config.tokens.keysPath, audit, logger, clock }),
      sweep,
      close: (graceMs = config.limits.shutdownGraceMs) =>
        (closing ??= (async () => {
          readiness.ready = false;
          clearInterval(sweepTimer);
          stopWatching();
          // Open streams and held calls end now, so idle listeners do not hold the drain (SPEC §8, §14).
          live.close();
          consoleStreams.closeAll();
          await Promise.all([closeServer(dataServer, graceMs), closeServer(controlServer, graceMs)]);
          // A request whose connection just closed may still be settling (writing its tool.call record).
          await live.idle(Math.min(graceMs, 1000));
          live.dispose();
          try {
            audit.write({ event: 'gateway.stop', time: clock.now(), status: 'ok', actor: SYSTEM_ACTOR });
          } catch (err) {
            logger.error({ err }, 'gateway.stop could not be audited');
          }
          // The last anchor covers gateway.stop, and is stored before the store closes.
          audit.anchorNow();
          await audit.flush();
          // Notifications of the last actions are written before the store closes; attempts in flight end.
          await notifier.flush();
          await worker.stop();
          await dispatchers.close();
          audit.close();
          // SPEC §17: a stopped replica's in-flight entries are recoverable at once by the others.
          await presence.stop().catch((err: unknown) => logger.warn({ err }, 'replica stop could not be recorded'));
          await signals.close();
          await closeStore();
        })()),
    };
  } catch (err) {
    for (const undo of cleanup.reverse()) await Promise.resolve(undo()).catch(() => {});
    throw err;
  }
}
