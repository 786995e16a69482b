// Published signing keys in process memory (SPEC §17). Each operation completes before it yields, so it
// is as atomic as the sqlite statements it mirrors; records are frozen copies.
import { checkKeyToPublish, type KeyStore, type KeyToPublish, type PublishedKey } from '../key-types.js';
import type { StoreGuard } from '../guard.js';

export class MemoryKeys implements KeyStore {
  private readonly byKid = new Map<string, PublishedKey>();

  constructor(private readonly guard: StoreGuard) {}

  publish(key: KeyToPublish): Promise<PublishedKey> {
    try {
      checkKeyToPublish(key);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.guard(() => {
      const existing = this.byKid.get(key.kid);
      if (existing) return existing;
      const record: PublishedKey = Object.freeze({ kid: key.kid, jwk: Object.freeze({ ...key.jwk }), publishedAt: key.publishedAt, retiredAt: null });
      this.byKid.set(key.kid, record);
      return record;
    });
  }

  get(kid: string): Promise<PublishedKey | null> {
    return this.guard(() => this.byKid.get(kid) ?? null);
  }

  list(options: { readonly includeRetired: boolean }): Promise<PublishedKey[]> {
    return this.guard(() =>
      [...this.byKid.values()]
        .filter((k) => options.includeRetired || k.retiredAt === null)
        .sort((a, b) => a.publishedAt - b.publishedAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0)),
    );
  }

  retire(kid: string, now: number): Promise<PublishedKey | null> {
    return this.guard(() => {
      const existing = this.byKid.get(kid);
      if (!existing) return null;
      if (existing.retiredAt !== null) return existing;
      const retired: PublishedKey = Object.freeze({ ...existing, retiredAt: now });
      this.byKid.set(kid, retired);
      return retired;
    });
  }
}
