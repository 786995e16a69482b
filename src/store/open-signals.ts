// The one place that picks the StoreSignals implementation for a store config: in-process for the stores
// one process owns (memory, SQLite), LISTEN/NOTIFY for PostgreSQL, where several replicas share the store.
// The PostgreSQL driver is loaded only for store.kind postgres (it costs every other start several hundred ms).
import type { StoreConfig } from '../config/types.js';
import { LocalSignals } from './local-signals.js';
import type { StoreSignals } from './signal-types.js';

export async function openSignals(config: StoreConfig, origin: string, onError: (err: unknown) => void): Promise<StoreSignals> {
  switch (config.kind) {
    case 'sqlite':
    case 'memory':
      return new LocalSignals(origin, onError);
    case 'postgres': {
      const { PgSignals } = await import('./postgres/pg-signals.js');
      return new PgSignals({ connectionString: config.url, origin, onError }).start();
    }
  }
}
