// `epochgate run` keeps the token file fresh, but never hands the agent a token of another epoch: a refresh
// answered for a newer epoch means another worker resumed the session, and this run was superseded.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PrivateDir } from '../../src/cli/private-files.js';
import { keepSession } from '../../src/cli/run-keeper.js';
import type { HeldSession, LauncherSessions } from '../../src/cli/run-session.js';

const jws = (claims: object) => `eyJhbGciOiJFZERTQSJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

function setup(refreshed: { epoch: number }) {
  const now = Math.floor(Date.now() / 1000);
  const session: HeldSession = { sessionId: 'ses_x', epoch: 3, token: jws({ iat: now, exp: now + 3 }), leaseExpiresAt: new Date(Date.now() + 300_000).toISOString(), toolUrls: {}, checkpoint: null, resumed: false };
  const written: string[] = [];
  const reports: string[] = [];
  const dir: PrivateDir = { path: '/x', write: (_name, content) => (written.push(content), '/x/token'), remove: () => {} };
  const sessions = {
    refresh: vi.fn(async () => ({ token: jws({ iat: now + 2, exp: now + 5, epoch: refreshed.epoch }), epoch: refreshed.epoch })),
    heartbeat: vi.fn(async () => new Date(Date.now() + 300_000).toISOString()),
  } as unknown as LauncherSessions;
  const keeper = keepSession({ sessions, session, dir, report: (m) => reports.push(m) });
  return { keeper, written, reports, sessions, session };
}

describe('epochgate run: the token keeper', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-01T12:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('writes the token at start and a refreshed one of the same epoch when a third of its lifetime is left', async () => {
    const { keeper, written, sessions, session } = setup({ epoch: 3 });
    expect(written).toEqual([`${session.token}\n`]);
    await vi.advanceTimersByTimeAsync(1_900);
    expect(sessions.refresh).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(200);
    expect(written).toHaveLength(2);
    expect(keeper.currentToken()).toBe(written[1]!.trim());
    keeper.stop();
  });

  it('does not hand over a token of a newer epoch: the run was superseded, and it stops refreshing', async () => {
    const { keeper, written, reports, sessions, session } = setup({ epoch: 4 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sessions.refresh).toHaveBeenCalledTimes(1);
    expect(written).toEqual([`${session.token}\n`]);
    expect(keeper.currentToken()).toBe(session.token);
    expect(reports.join('\n')).toContain('superseded');
    keeper.stop();
  });
});
