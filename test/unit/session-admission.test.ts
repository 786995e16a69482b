// SPEC §6 steps 7 and 8 as units, independent of the gateway-level tests in
// test/integration/data-plane-acceptance.test.ts: the agent's not_before against the token's iat
// (admitSession), and the tool against both the token's scope and the session's current scope (assertInScope).
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { assertInScope } from '../../src/pipeline/stage-fence.js';
import type { AgentDef, PolicySnapshot } from '../../src/policy/types.js';
import { admitSession } from '../../src/sessions/session-access.js';
import type { SessionLifecycle } from '../../src/sessions/lifecycle.js';
import type { VerifiedToken } from '../../src/sessions/token-verify.js';
import type { SessionRecord } from '../../src/store/types.js';

const IAT_S = 1_795_000_000;
const session: SessionRecord = {
  sessionId: 'ses_x', taskId: 't', agentId: 'bot', state: 'active', stateReason: null, epoch: 2, scope: ['billing'], originalScope: ['billing', 'crm'],
  createdAt: 0, updatedAt: 0, leaseExpiresAt: Number.MAX_SAFE_INTEGER, resumes: 1, metadata: null,
};
const token = (over: Partial<VerifiedToken> = {}): VerifiedToken => ({
  jti: 'jti_1', sessionId: 'ses_x', agentId: 'bot', epoch: 2, scope: ['billing'], iat: IAT_S, exp: IAT_S + 900, nbf: IAT_S, ...over,
});
const agent = (notBefore: number | null): AgentDef => ({ id: 'bot', enabled: true, roles: ['r'], notBefore, credentials: [] });
const policy = (a: AgentDef) => ({ agents: new Map([[a.id, a]]) }) as unknown as PolicySnapshot;
/** The lifecycle as admitSession uses it: the stored session, with no lease or max_age change. */
const lifecycle = { store: { sessions: { get: async () => session } }, enforceTimeLimits: async (s: SessionRecord) => s } as unknown as SessionLifecycle;

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return (err as GatewayError).code;
  }
  return 'admitted';
}

describe('admitSession: the agent not_before (SPEC §6 step 7)', () => {
  it('refuses a token issued one millisecond before not_before with 401 token_revoked', async () => {
    expect(await refusal(admitSession(lifecycle, policy(agent(IAT_S * 1000 + 1)), token(), 'req_1'))).toBe('token_revoked');
  });

  it('admits a token issued at not_before, or with no not_before, returning the session and the agent', async () => {
    const at = agent(IAT_S * 1000);
    await expect(admitSession(lifecycle, policy(at), token(), 'req_1')).resolves.toEqual({ session, agent: at });
    const none = agent(null);
    await expect(admitSession(lifecycle, policy(none), token(), 'req_1')).resolves.toEqual({ session, agent: none });
  });
});

describe('assertInScope (SPEC §6 step 8)', () => {
  it('admits a tool in both the token scope and the session scope', () => {
    expect(() => assertInScope(token(), session, 'billing')).not.toThrow();
  });

  it('refuses a tool missing from the token scope with 403 scope_exceeded and the bearer challenge', () => {
    const error = (() => {
      try {
        assertInScope(token({ scope: ['crm'] }), { ...session, scope: ['billing', 'crm'] }, 'billing');
      } catch (err) {
        return err as GatewayError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(GatewayError);
    expect({ code: error!.code, status: error!.status, bearer: error!.bearer }).toEqual({ code: 'scope_exceeded', status: 403, bearer: true });
  });

  it('refuses a tool an older, wider token still names once the session scope was narrowed', () => {
    expect(() => assertInScope(token({ scope: ['billing', 'crm'] }), session, 'crm')).toThrow(expect.objectContaining({ code: 'scope_exceeded' }));
  });
});
