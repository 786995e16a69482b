// Used client-assertion ids of the in-process store (SPEC §4): insert-if-absent in one synchronous step.
import type { StoreGuard } from '../guard.js';
import { ASSERTION_PURGE_INTERVAL_MS } from '../purge.js';
import type { AssertionIdStore } from '../types.js';

export class MemoryAssertionIds implements AssertionIdStore {
  private readonly expiries = new Map<string, number>();
  private nextPurge = 0;

  constructor(private readonly guard: StoreGuard) {}

  use(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.guard(() => {
      if (now >= this.nextPurge) {
        for (const [k, exp] of this.expiries) if (exp < now) this.expiries.delete(k);
        this.nextPurge = now + ASSERTION_PURGE_INTERVAL_MS;
      }
      // An entry past its expiry counts as forgotten whether or not the purge has run (as in sqlite).
      const previous = this.expiries.get(key);
      if (previous !== undefined && previous >= now) return false;
      this.expiries.set(key, expiresAt);
      return true;
    });
  }
}
