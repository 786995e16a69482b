// Composition root: builds every module once, wires them, starts both listeners. Wiring only, no logic;
// each start-up phase lives in wiring/ and runs in the order below, because each needs the one before.
import { SYSTEM_ACTOR } from './audit/envelope.js';
import type { GatewayOptions, RunningGateway } from './app-types.js';
import type { Readiness } from './control/health.js';
import { GatewayMetrics } from './metrics/metrics.js';
import { KeyRing } from './sessions/key-ring.js';
import { reloadSigningKeys } from './sessions/key-reload.js';
import { loadOrCreateSigningKeys } from './sessions/signing-keys.js';
import { openSignals } from './store/open-signals.js';
import { openStore } from './store/open-store.js';
import { systemClock } from './util/clock.js';
import { newReplicaId } from './util/ids.js';
import { openAuditStream } from './wiring/audit-stream.js';
import { startBackground } from './wiring/background.js';
import { startServers } from './wiring/servers.js';
import { buildServices, recoverAtStart } from './wiring/services.js';
import { shutdown, type RunningParts } from './wiring/shutdown.js';
import { undoAll, type StartContext } from './wiring/start-context.js';

export type { GatewayNotifications, GatewayOptions, RunningGateway } from './app-types.js';

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const store = options.store ?? (await openStore(config.store));
  // An injected store (tests: two replicas sharing one) is left open for its owner.
  const closeStore = options.store ? async () => {} : () => store.close();
  const undo: (() => unknown)[] = [closeStore];
  try {
    const replicaId = options.replicaId ?? newReplicaId();
    // Change signals between replicas: a hint to re-read the store sooner; polling stays the fallback.
    const signals = await openSignals(config.store, replicaId, (err) => logger.warn({ err }, 'store change signal failed'));
    undo.push(() => signals.close());
    const ctx: StartContext = {
      options, config, logger, clock, store, signals, replicaId,
      urls: { data: '', control: '', public: '', console: '' },
      onFailure: (step) => void undo.push(step),
    };
    return await start(ctx, closeStore);
  } catch (err) {
    await undoAll(undo);
    throw err;
  }
}

async function start(ctx: StartContext, closeStore: () => Promise<void>): Promise<RunningGateway> {
  const { config, store, clock, logger } = ctx;
  // SPEC §17: this replica's public keys are published before any listener accepts.
  const keys = await KeyRing.open(await loadOrCreateSigningKeys(config.tokens.keysPath, clock), { store: store.keys, clock });
  const metrics = new GatewayMetrics(store);
  const stream = openAuditStream(ctx, keys, metrics);
  const { audit } = stream;
  const readiness: Readiness = { ready: false, auditAvailable: audit.isAvailable };
  const presence = await recoverAtStart(ctx, audit);
  const services = await buildServices(ctx, keys, audit, metrics);
  const servers = await startServers(ctx, { services, audit, metrics, keys, readiness });
  const background = startBackground(ctx, services, servers, presence);
  services.live.start();
  ctx.onFailure(() => services.live.dispose());
  stream.worker.start();
  audit.write({
    event: 'gateway.start', time: clock.now(), status: 'ok', actor: SYSTEM_ACTOR, policyRevision: services.policy.current().revision,
    extra: { data_url: ctx.urls.data, control_url: ctx.urls.control, store: store.kind, replica_id: ctx.replicaId },
  });
  readiness.ready = true;
  const parts: RunningParts = { ctx, readiness, stream, metrics, services, servers, background, presence, closeStore };
  return running(parts, () => reloadSigningKeys({ ring: keys, path: config.tokens.keysPath, audit, logger, clock }));
}

function running(parts: RunningParts, reloadKeys: () => Promise<boolean>): RunningGateway {
  const { ctx, services, stream } = parts;
  let closing: Promise<void> | undefined;
  return {
    dataUrl: ctx.urls.data,
    controlUrl: ctx.urls.control,
    consoleUrl: ctx.config.console.enabled ? ctx.urls.console : null,
    store: ctx.store,
    replicaId: ctx.replicaId,
    policy: services.policy,
    metrics: parts.metrics,
    notifications: {
      deliverNow: async () => {
        await stream.notifier.flush();
        stream.worker.wake();
        await stream.worker.idle();
      },
    },
    reloadPolicy: async () => (await services.policy.reload()).ok,
    reloadKeys,
    sweep: parts.background.sweep,
    close: (graceMs = ctx.config.limits.shutdownGraceMs) => (closing ??= shutdown(parts, graceMs)),
  };
}
