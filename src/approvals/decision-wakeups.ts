// Wakes a call held for approval (SPEC §9.3) as soon as its approval is decided, here or on another replica
// (a StoreChange 'approval' signal), instead of at its next poll. The held call still polls the store
// (approval-flow.ts): a signal only shortens the wait, it never decides anything.
import type { StoreChange, StoreSignals } from '../store/signal-types.js';
import { abortableSleep } from './approval-flow.js';

export class DecisionWakeups {
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly unsubscribe: () => void;

  constructor(signals: StoreSignals) {
    this.unsubscribe = signals.subscribe((change) => this.changed(change));
  }

  /** Resolves after `ms`, when `signal` aborts, or when approval `approvalId` is decided, whichever is first. */
  sleep(approvalId: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    const early = new AbortController();
    let set = this.waiting.get(approvalId);
    if (set === undefined) this.waiting.set(approvalId, (set = new Set()));
    const wake = (): void => early.abort();
    set.add(wake);
    const both = signal ? AbortSignal.any([signal, early.signal]) : early.signal;
    return abortableSleep(ms, both).finally(() => {
      set.delete(wake);
      if (set.size === 0 && this.waiting.get(approvalId) === set) this.waiting.delete(approvalId);
    });
  }

  /** How many approvals have a held call waiting (tests, and the O(1) promise: one entry per approval). */
  get size(): number {
    return this.waiting.size;
  }

  close(): void {
    this.unsubscribe();
  }

  private changed(change: StoreChange): void {
    if (change.kind !== 'approval') return;
    for (const wake of this.waiting.get(change.approvalId) ?? []) wake();
  }
}
