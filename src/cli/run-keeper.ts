// Keeps a running agent's session usable (SPEC §15): refreshes the token file when less than a third of
// the token's lifetime is left, and renews the lease with heartbeats. It never changes the epoch: a
// refreshed token for another epoch means another worker resumed the session (we were superseded), so it
// is not handed to the agent, whose calls then fail as the fencing intends.
import { unverifiedClaims } from './jwt-claims.js';
import type { PrivateDir } from './private-files.js';
import { ControlRefusal, type HeldSession, type LauncherSessions } from './run-session.js';

export const TOKEN_FILE = 'token';
const RETRY_MS = 1_000;
const MIN_HEARTBEAT_MS = 200;
const MAX_HEARTBEAT_MS = 60_000;
// Refusals no retry can cure: the session needs a resume, is final, or the agent lost its standing.
const FINAL = new Set(['session_suspended', 'session_stale_epoch', 'session_closed', 'session_revoked', 'session_unknown', 'agent_disabled', 'forbidden', 'token_revoked']);

export interface SessionKeeper {
  currentToken(): string;
  stop(): void;
}

export interface KeeperOptions {
  readonly sessions: LauncherSessions;
  readonly session: HeldSession;
  readonly dir: PrivateDir;
  readonly report: (message: string) => void;
}

export function keepSession(options: KeeperOptions): SessionKeeper {
  const keeper = new Keeper(options);
  keeper.start();
  return { currentToken: () => keeper.token, stop: () => keeper.stop() };
}

class Keeper {
  token: string;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: KeeperOptions) {
    this.token = options.session.token;
  }

  start(): void {
    this.options.dir.write(TOKEN_FILE, `${this.token}\n`);
    this.later(refreshDelay(this.token), () => this.refresh());
    this.later(heartbeatDelay(this.options.session.leaseExpiresAt), () => this.heartbeat());
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private later(ms: number, task: () => Promise<void>): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task().catch((err: unknown) => this.options.report(`internal error: ${(err as Error).message}`));
    }, Math.max(0, ms));
    // The launcher lives as long as the agent does; these timers must never hold it up after that.
    timer.unref();
    this.timers.add(timer);
  }

  private async refresh(): Promise<void> {
    const { sessions, session, dir, report } = this.options;
    try {
      const fresh = await sessions.refresh(session.sessionId);
      if (this.stopped) return;
      if (fresh.epoch !== session.epoch) {
        report(`session ${session.sessionId} was resumed elsewhere (epoch ${fresh.epoch}, this run holds ${session.epoch}): superseded, no new token`);
        return this.stop();
      }
      this.token = fresh.token;
      dir.write(TOKEN_FILE, `${this.token}\n`);
      this.later(refreshDelay(this.token), () => this.refresh());
    } catch (err) {
      if (!this.giveUp('token refresh', err) && !expired(this.token)) this.later(RETRY_MS, () => this.refresh());
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      const lease = await this.options.sessions.heartbeat(this.options.session.sessionId, this.token);
      this.later(heartbeatDelay(lease), () => this.heartbeat());
    } catch (err) {
      if (!this.giveUp('heartbeat', err)) this.later(RETRY_MS, () => this.heartbeat());
    }
  }

  private giveUp(what: string, err: unknown): boolean {
    if (!(err instanceof ControlRefusal && FINAL.has(err.code))) return false;
    if (!this.stopped) this.options.report(`${what} refused (${err.code}); the agent's token will not be renewed`);
    return true;
  }
}

/** ms until two thirds of the token's lifetime have passed (SPEC §15: refresh when < 1/3 is left). */
export function refreshDelay(token: string, now = Date.now()): number {
  const { iat, exp } = unverifiedClaims(token) ?? {};
  if (iat === undefined || exp === undefined || exp <= iat) return RETRY_MS;
  return (exp - (exp - iat) / 3) * 1000 - now;
}

/** A third of what is left of the lease, within bounds: several chances before it runs out. */
export function heartbeatDelay(leaseExpiresAt: string, now = Date.now()): number {
  const left = Date.parse(leaseExpiresAt) - now;
  if (!Number.isFinite(left)) return RETRY_MS;
  return Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, left / 3));
}

function expired(token: string, now = Date.now()): boolean {
  const exp = unverifiedClaims(token)?.exp;
  return exp === undefined || exp * 1000 <= now;
}
