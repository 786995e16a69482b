// SPEC §6 steps 5–6 as one function: the fence stage, the control plane's token routes and the ledger's
// atomic reservation all answer a changed session with exactly these codes (401, with a challenge).
import { describe, expect, it } from 'vitest';
import { problemReply } from '../../src/errors/problem.js';
import { sessionRefusal } from '../../src/sessions/session-access.js';
import type { SessionRecord, SessionState } from '../../src/store/types.js';

const session = (state: SessionState, epoch = 2): SessionRecord => ({
  sessionId: 'ses_x', taskId: 't', agentId: 'a', state, stateReason: null, epoch, scope: ['billing'], originalScope: ['billing'],
  createdAt: 0, updatedAt: 0, leaseExpiresAt: 1, resumes: 1, metadata: null,
});

describe('sessionRefusal', () => {
  it('accepts an active session at the token epoch', () => {
    expect(sessionRefusal(session('active', 2), 2)).toBeUndefined();
  });

  it.each([
    ['no session', null, 'session_unknown'],
    ['a suspended session', session('suspended'), 'session_suspended'],
    ['a closed session', session('closed'), 'session_closed'],
    ['a revoked session', session('revoked'), 'session_revoked'],
  ] as const)('refuses %s with 401 %s and the invalid_token challenge', (_name, found, code) => {
    const error = sessionRefusal(found, 2)!;
    expect(error.code).toBe(code);
    expect(error.status).toBe(401);
    expect(problemReply(error, 'r').headers['www-authenticate']).toContain(`error_description="${code}"`);
  });

  it('refuses an older epoch with session_stale_epoch and resume_required, before looking at anything else', () => {
    const error = sessionRefusal(session('active', 3), 2)!;
    expect(error.code).toBe('session_stale_epoch');
    expect(error.fields).toEqual({ resume_required: true, current_epoch: 3 });
  });

  it('names both epochs in the session_stale_epoch detail, with the bearer challenge', () => {
    const error = sessionRefusal(session('active', 3), 2)!;
    expect({ status: error.status, bearer: error.bearer, detail: error.message }).toEqual({
      status: 401,
      bearer: true,
      detail: 'The token is for epoch 2; the session is at epoch 3',
    });
  });

  it('tells the agent of a suspended session to resume (resume_required, its own detail)', () => {
    const error = sessionRefusal(session('suspended'), 2)!;
    expect({ fields: error.fields, detail: error.message, bearer: error.bearer }).toEqual({
      fields: { resume_required: true },
      detail: 'The session is suspended; resume it to get a new token',
      bearer: true,
    });
  });
});
