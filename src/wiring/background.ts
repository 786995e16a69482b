// Start-up phase: the work no request triggers — the sweep (leases, max_age, approval ttl, the replica
// heartbeat, lapsed console sign-ins) and the policy directory watch.
import type { ReplicaPresence } from '../ledger/replica-presence.js';
import { watchPolicyDir } from '../policy/watch.js';
import { sweepAll } from '../util/sweep-all.js';
import type { GatewayServers } from './servers.js';
import type { GatewayServices } from './services.js';
import type { StartContext } from './start-context.js';

export interface Background {
  /** One sweep now (tests and the timer); resolves to the number of records it changed. */
  sweep(): Promise<number>;
  stop(): void;
}

export function startBackground(ctx: StartContext, s: GatewayServices, servers: GatewayServers, presence: ReplicaPresence): Background {
  const { config, logger, options } = ctx;
  // Lapsed console sign-ins are removed on the same beat (not counted: they are not sessions).
  const purgeConsole = async (): Promise<number> => {
    if (config.console.enabled) await servers.consoleAuth.purge();
    return 0;
  };
  // Approvals past their ttl are expired (and audited) even when no call touches them again (SPEC §9).
  // Each step runs even when an earlier one failed: a failing session sweep must not stop the heartbeat
  // (the other replicas would take this one for gone).
  const sweep = () => sweepAll([purgeConsole, () => s.lifecycle.sweep(s.policy.current()), () => s.approvals.sweep(), () => presence.sweep()]);
  const timer = setInterval(() => {
    sweep().catch((err: unknown) => logger.warn({ err }, 'session sweep failed'));
  }, options.sweepIntervalMs ?? 1000);
  timer.unref();
  const stopWatching = options.watchPolicies === false ? () => {} : watchPolicyDir(config.policiesDir, () => {
    s.policy.reload().catch((err: unknown) => logger.error({ err }, 'policy reload failed'));
  });
  return {
    sweep,
    stop: () => {
      clearInterval(timer);
      stopWatching();
    },
  };
}
