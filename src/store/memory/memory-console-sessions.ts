// Console sign-in sessions in process memory. Each method does its work synchronously inside the store's
// guard, so the conditional touch is atomic exactly like the sqlite statement.
import type { ConsoleSessionRecord, ConsoleSessionStore, NewConsoleSession } from '../console-session-types.js';
import type { StoreGuard } from '../guard.js';

export class MemoryConsoleSessions implements ConsoleSessionStore {
  private readonly sessions = new Map<string, ConsoleSessionRecord>();

  constructor(private readonly guard: StoreGuard) {}

  create(session: NewConsoleSession): Promise<void> {
    return this.guard(() => {
      if (this.sessions.has(session.idHash)) throw new Error('duplicate console session id');
      this.sessions.set(session.idHash, Object.freeze({ ...session, lastSeenAt: session.createdAt }));
    });
  }

  touch(idHash: string, now: number, expiresAt: number): Promise<ConsoleSessionRecord | null> {
    return this.guard(() => {
      const found = this.sessions.get(idHash);
      if (found === undefined || found.expiresAt <= now) return null;
      const updated = Object.freeze({ ...found, lastSeenAt: now, expiresAt });
      this.sessions.set(idHash, updated);
      return updated;
    });
  }

  find(idHash: string, now: number): Promise<ConsoleSessionRecord | null> {
    return this.guard(() => {
      const found = this.sessions.get(idHash);
      return found === undefined || found.expiresAt <= now ? null : found;
    });
  }

  delete(idHash: string): Promise<boolean> {
    return this.guard(() => this.sessions.delete(idHash));
  }

  purgeExpired(now: number): Promise<number> {
    return this.guard(() => {
      let removed = 0;
      for (const [idHash, session] of this.sessions) {
        if (session.expiresAt <= now && this.sessions.delete(idHash)) removed += 1;
      }
      return removed;
    });
  }
}
