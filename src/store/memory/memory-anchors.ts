// Audit anchors in process memory (SPEC §13). Only the newest anchor per chain is queried, so only it is kept.
import type { AnchorStore, StoredAnchor } from '../anchor-types.js';
import type { StoreGuard } from '../guard.js';

export class MemoryAnchors implements AnchorStore {
  private readonly newestByChain = new Map<string, StoredAnchor>();

  constructor(private readonly guard: StoreGuard) {}

  put(anchor: StoredAnchor): Promise<void> {
    return this.guard(() => {
      const current = this.newestByChain.get(anchor.chainUid);
      if (current === undefined || anchor.sequence > current.sequence) this.newestByChain.set(anchor.chainUid, { ...anchor });
    });
  }

  newest(chainUid: string): Promise<StoredAnchor | null> {
    return this.guard(() => this.newestByChain.get(chainUid) ?? null);
  }

  newestPerChain(createdAtOrAfter: number): Promise<StoredAnchor[]> {
    return this.guard(() =>
      [...this.newestByChain.values()].filter((a) => a.createdAt >= createdAtOrAfter).sort((a, b) => a.createdAt - b.createdAt),
    );
  }
}
