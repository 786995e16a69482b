// The in-process StoreSignals (memory and SQLite stores: one process owns the store, so every change is
// local). Also the fan-out half of the PostgreSQL implementation (postgres/pg-signals.ts).
import type { ChangeNotice, StoreChange, StoreChangeListener, StoreSignals } from './signal-types.js';

export class LocalSignals implements StoreSignals {
  private readonly listeners = new Set<StoreChangeListener>();

  /** `onError` sees a listener that threw; the other listeners are still told (DESIGN rule 15). */
  constructor(
    readonly origin: string,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  publish(notice: ChangeNotice): Promise<void> {
    this.deliver({ ...notice, origin: this.origin });
    return Promise.resolve();
  }

  /** Tells every listener, synchronously, in subscription order. */
  deliver(change: StoreChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  subscribe(listener: StoreChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}
