// What every backend's contract suite shares: how a backend is handed to the suites, and the records the
// session cases build on.
import { afterEach, beforeEach } from 'vitest';
import type { NewCheckpoint, ResumeUpdate, SessionRecord, Store } from '../../src/store/types.js';

export interface ContractBackend {
  readonly name: string;
  /** A Store over fresh, empty state. */
  create(): Promise<Store>;
  /** Another Store over the state create() made last (sqlite: the same file); absent when state dies with its Store. */
  readonly openPeer?: () => Promise<Store>;
  /** Like create(), but with durability relaxed (sqlite: synchronous=normal) for timing tests, where fsync
   *  noise from other processes would drown the signal; absent when create() is already that. */
  readonly createForTiming?: () => Promise<Store>;
  /** Calls per batch of the ledger's cost-growth test (default 1000; 20 batches per phase). A network
   *  backend pays round trips per call and runs fewer; it checks its statements' plans on a big window too. */
  readonly ledgerTimingBatch?: number;
  /** Removes whatever create() made (temp files). */
  destroy?(): Promise<void>;
}

export const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
export const LEASE = 60_000;

export function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const base = { sessionId: 'ses_a', taskId: 'task-1', agentId: 'agent-1', state: 'active', stateReason: null, epoch: 1 } as const;
  const times = { createdAt: T0, updatedAt: T0, leaseExpiresAt: T0 + LEASE, resumes: 0, metadata: null };
  return { ...base, scope: ['billing', 'search'], originalScope: ['billing', 'search'], ...times, ...overrides };
}

export const resumeAt = (expectedEpoch: number, over: Partial<ResumeUpdate> = {}): ResumeUpdate => {
  return { expectedEpoch, scope: ['billing'], now: T0 + 1000, leaseExpiresAt: T0 + 1000 + LEASE, maxResumes: 10, ...over };
};

export const checkpoint = (epoch: number, id: string, over: Partial<NewCheckpoint> = {}): NewCheckpoint => {
  const content = { label: `step ${id}`, state: JSON.stringify({ id }), stateDigest: `sha256:${id}` };
  return { checkpointId: id, sessionId: 'ses_a', epoch, ...content, createdAt: T0 + 500, ...over };
};

/**
 * A fresh store per test over fresh state, handed to `opened` (which also plants the test's fixtures), and
 * closed after the test with every extra instance the test opened (pushed onto `extra`).
 */
export function storePerTest(backend: ContractBackend, opened: (store: Store) => void | Promise<void>): { readonly extra: Store[] } {
  const extra: Store[] = [];
  let store: Store | undefined;
  beforeEach(async () => {
    store = await backend.create();
    await opened(store);
  });
  afterEach(async () => {
    for (const s of extra.splice(0)) await s.close();
    await store?.close();
    await backend.destroy?.();
  });
  return { extra };
}
