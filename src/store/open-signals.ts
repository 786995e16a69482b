// The one place that picks the StoreSignals implementation for a store config: in-process for the stores
// one process owns (memory, SQLite), LISTEN/NOTIFY for PostgreSQL, where several replicas share the store.
import type { StoreConfig } from '../config/types.js';
import { LocalSignals } from './local-signals.js';
import { PgSignals } from './postgres/pg-signals.js';
import type { StoreSignals } from './signal-types.js';

export function openSignals(config: StoreConfig, origin: string, onError: (err: unknown) => void): StoreSignals {
  switch (config.kind) {
    case 'sqlite':
    case 'memory':
      return new LocalSignals(origin, onError);
    case 'postgres':
      return new PgSignals({ connectionString: config.url, origin, onError }).start();
  }
}
