// DESIGN rule 15, the last net: an error that escaped every owner (a bug) is logged and counted, and the
// process keeps serving everyone else. It is never the design: every known hostile path is owned where it
// happens, and the adversarial suite proves epochgate_internal_errors_total stays 0 under them.
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics/metrics.js';

/** Installs the handlers; returns a function that removes them (tests, shutdown). */
export function installLastResort(logger: Logger, metrics: GatewayMetrics): () => void {
  const onRejection = (reason: unknown): void => report('unhandledRejection', reason);
  const onException = (err: unknown): void => report('uncaughtException', err);
  function report(kind: string, err: unknown): void {
    try {
      metrics.internalErrors.inc();
      logger.error({ err, kind }, 'error escaped its owner; still serving');
    } catch {
      // Logging itself failed: nothing is left to tell, and throwing here would end the process.
    }
  }
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
