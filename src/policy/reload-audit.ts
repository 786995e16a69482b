// Turns policy (re)load outcomes into audit records, metrics and log lines (SPEC §3 reload, §13, §14).
import { SYSTEM_ACTOR } from '../audit/envelope.js';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/types.js';
import type { GatewayMetrics } from '../metrics/metrics.js';
import type { PolicySnapshot } from './types.js';
import type { Clock } from '../util/clock.js';

export function policyAuditHooks(audit: AuditLog, metrics: GatewayMetrics, logger: Logger, clock: Clock) {
  return {
    onLoaded(snapshot: PolicySnapshot): void {
      metrics.policyReloads.inc({ result: 'success' });
      audit.write({ event: 'policy.load', time: clock.now(), status: 'ok', actor: SYSTEM_ACTOR, policyRevision: snapshot.revision, extra: { files: snapshot.files.length, warnings: snapshot.warnings.length } });
      for (const warning of snapshot.warnings) logger.warn({ revision: snapshot.revision }, warning);
    },
    onReloadFailed(error: Error): void {
      metrics.policyReloads.inc({ result: 'failure' });
      audit.write({ event: 'policy.reload_failed', time: clock.now(), status: 'policy_invalid', detail: error.message, actor: SYSTEM_ACTOR });
      logger.error({ error: error.message }, 'policy reload failed; the last good revision stays in force');
    },
  };
}
