// In-process Store for tests and demos (SPEC §1: loses everything on exit). Each sub-store runs every
// operation as one synchronous step through the shared guard (guard.ts), which is this backend's
// transaction: it runs to completion before another operation of the store starts. Records are
// deep-frozen copies: a caller editing what it got back cannot change stored state.
import { createStoreGuard, type StoreGuard } from '../guard.js';
import type { Store } from '../types.js';
import { MemoryAnchors } from './memory-anchors.js';
import { MemoryApprovals } from './memory-approvals.js';
import { MemoryAssertionIds } from './memory-assertion-ids.js';
import { MemoryLedger } from './memory-ledger.js';
import { MemoryMcpSessions } from './memory-mcp-sessions.js';
import { MemoryConsoleSessions } from './memory-console-sessions.js';
import { MemoryKeys } from './memory-keys.js';
import { MemoryNotifications } from './memory-notifications.js';
import { MemoryReplicas } from './memory-replicas.js';
import { MemorySessions } from './memory-sessions.js';

export interface MemoryStoreOptions {
  /** Called with the underlying error before it is thrown as store_unavailable (parity with sqlite). */
  readonly onError?: (err: unknown) => void;
  /** SPEC §10: how long closed ledger entries keep their metadata (default 7 days). */
  readonly ledgerRetentionMs?: number;
}

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly sessions: MemorySessions;
  readonly assertionIds: MemoryAssertionIds;
  readonly replicas: MemoryReplicas;
  readonly approvals: MemoryApprovals;
  readonly ledger: MemoryLedger;
  readonly mcpSessions: MemoryMcpSessions;
  readonly anchors: MemoryAnchors;
  readonly keys: MemoryKeys;
  readonly notifications: MemoryNotifications;
  readonly consoleSessions: MemoryConsoleSessions;
  private readonly guard: StoreGuard;
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    const guard = createStoreGuard(options.onError, () => this.closed);
    this.guard = guard;
    this.sessions = new MemorySessions(guard, {
      closeWindow: (sessionId, closedSeq, now) => this.ledger.closeWindow(sessionId, closedSeq, now),
      closeSession: (sessionId, now) => this.ledger.closeSession(sessionId, now),
    });
    this.replicas = new MemoryReplicas(guard);
    const host = {
      session: (id: string) => this.sessions.session(id),
      checkpointSeq: (id: string) => this.sessions.checkpointSeq(id),
      isRunning: (replicaId: string) => this.replicas.isRunning(replicaId),
      guard,
    };
    this.ledger = new MemoryLedger(host, options.ledgerRetentionMs);
    this.assertionIds = new MemoryAssertionIds(guard);
    this.approvals = new MemoryApprovals(guard, (id) => this.sessions.session(id));
    this.mcpSessions = new MemoryMcpSessions(guard);
    this.anchors = new MemoryAnchors(guard);
    this.keys = new MemoryKeys(guard);
    this.notifications = new MemoryNotifications(guard);
    this.consoleSessions = new MemoryConsoleSessions(guard);
  }

  ping(): Promise<void> {
    return this.guard(() => undefined);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
