// What every start-up phase of the composition root shares: the options, the clock, the store and its
// change signals, and the undo list that a failed start runs backwards (so nothing half-started leaks).
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.js';
import type { StoreSignals } from '../store/signal-types.js';
import type { Store } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import type { GatewayOptions } from '../app-types.js';

/** The URLs known only once the listeners are bound; read lazily by what was built before. */
export interface GatewayUrls {
  data: string;
  control: string;
  /** SPEC §4: the data plane's public URL (config, else the bound data URL). */
  public: string;
  /** SPEC §18: the console's public URL (config, else the control URL + /console). */
  console: string;
}

export interface StartContext {
  readonly options: GatewayOptions;
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly store: Store;
  readonly signals: StoreSignals;
  readonly replicaId: string;
  readonly urls: GatewayUrls;
  /** Registers an undo step; a failed start runs them last-in first-out. */
  onFailure(undo: () => unknown): void;
}

/** Runs the undo steps newest first; none of them may stop the others. */
export async function undoAll(steps: (() => unknown)[]): Promise<void> {
  for (const undo of steps.reverse()) await Promise.resolve().then(undo).catch(() => {});
}
