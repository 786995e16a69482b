// SPEC §6 steps 7 and 8 as units, independent of the gateway-level tests in
// test/integration/data-plane-acceptance.test.ts: the agent's not_before against the token's iat
// (admitSession), and the tool against both the token's scope and the session's current scope (assertInScope).
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { PipelineDeps } from '../../src/pipeline/deps.js';
import { assertInScope, fenceStage } from '../../src/pipeline/stage-fence.js';
import type { AgentDef, PolicySnapshot } from '../../src/policy/types.js';
import { admitSession, refuseChanged } from '../../src/sessions/session-access.js';
import type { SessionLifecycle } from '../../src/sessions/lifecycle.js';
import type { VerifiedToken } from '../../src/sessions/token-verify.js';
import type { SessionRecord, Store } from '../../src/store/types.js';

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

/** The same, with another stored session (or none). */
const lifecycleWith = (found: SessionRecord | null) =>
  ({ store: { sessions: { get: async () => found } }, enforceTimeLimits: async (s: SessionRecord) => s }) as unknown as SessionLifecycle;

/** The refusal's code and bearer flag (every refusal of SPEC §6 steps 5–7 carries the challenge). */
async function refusedWith(promise: Promise<unknown>): Promise<{ code: string; bearer: boolean } | 'admitted'> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return { code: (err as GatewayError).code, bearer: (err as GatewayError).bearer };
  }
  return 'admitted';
}

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

describe('admitSession: the session and the agent (SPEC §6 steps 5–7)', () => {
  const enabled = agent(null);

  it('refuses a session the store does not hold with 401 session_unknown and the challenge', async () => {
    expect(await refusedWith(admitSession(lifecycleWith(null), policy(enabled), token(), 'req_1'))).toEqual({ code: 'session_unknown', bearer: true });
  });

  it("refuses another agent's session as session_unknown, even though the token's own agent is enabled", async () => {
    const other = lifecycleWith({ ...session, agentId: 'someone-else' });
    expect(await refusedWith(admitSession(other, policy(enabled), token(), 'req_1'))).toEqual({ code: 'session_unknown', bearer: true });
  });

  it('throws the refusal of the session as it stands: suspended, or a newer epoch', async () => {
    const suspended = lifecycleWith({ ...session, state: 'suspended' });
    expect(await refusedWith(admitSession(suspended, policy(enabled), token(), 'req_1'))).toEqual({ code: 'session_suspended', bearer: true });
    const newer = lifecycleWith({ ...session, epoch: 3 });
    expect(await refusedWith(admitSession(newer, policy(enabled), token(), 'req_1'))).toEqual({ code: 'session_stale_epoch', bearer: true });
  });

  it('refuses an agent that is disabled, or no longer in the policy, with 401 agent_disabled and the challenge', async () => {
    const disabled = { ...enabled, enabled: false };
    expect(await refusedWith(admitSession(lifecycle, policy(disabled), token(), 'req_1'))).toEqual({ code: 'agent_disabled', bearer: true });
    const gone = policy({ ...enabled, id: 'not-bot' });
    expect(await refusedWith(admitSession(lifecycle, gone, token(), 'req_1'))).toEqual({ code: 'agent_disabled', bearer: true });
  });

  it('answers a token older than not_before with the bearer challenge', async () => {
    expect(await refusedWith(admitSession(lifecycle, policy(agent(IAT_S * 1000 + 1)), token(), 'req_1'))).toEqual({ code: 'token_revoked', bearer: true });
  });
});

describe('refuseChanged (a conditional write lost to a session change)', () => {
  it('throws the refusal the fence would give now: a newer epoch is session_stale_epoch', async () => {
    const store = { sessions: { get: async () => ({ ...session, epoch: 3 }) } } as unknown as Pick<Store, 'sessions'>;
    expect(await refusedWith(refuseChanged(store, session))).toEqual({ code: 'session_stale_epoch', bearer: true });
  });

  it('throws 500 internal_error when the session turns out unchanged (the write failed for another reason)', async () => {
    const store = { sessions: { get: async () => session } } as unknown as Pick<Store, 'sessions'>;
    expect(await refusedWith(refuseChanged(store, session))).toEqual({ code: 'internal_error', bearer: false });
  });
});

describe('fenceStage (SPEC §6 steps 5–8, the live-call registry)', () => {
  const limit = new GatewayError('too_many_requests');
  function setup(counted: boolean, protocol: 'http' | 'mcp', scope: readonly string[] = ['billing']) {
    const seen = { admitted: [] as SessionRecord[], released: 0 };
    const live = { counted, release: () => void (seen.released += 1) };
    const deps = {
      lifecycle,
      live: { admit: (s: SessionRecord) => (seen.admitted.push(s), live), limitError: () => limit },
    } as unknown as PipelineDeps;
    const ctx = {
      requestId: 'req_1',
      policy: policy(agent(null)),
      token: token({ scope: [...scope] }),
      route: { tool: { name: 'billing', protocol } },
      finishers: [],
    } as unknown as RequestContext;
    return { deps, ctx, seen, live };
  }

  it('records the session, agent and live call, and releases the call once in its finisher', async () => {
    const { deps, ctx, seen, live } = setup(true, 'http');
    await fenceStage(deps, ctx);
    expect({ session: ctx.session, agent: ctx.agent, live: ctx.live, admitted: seen.admitted }).toEqual({ session, agent: agent(null), live, admitted: [session] });
    expect(ctx.finishers.length).toBe(1);
    await ctx.finishers[0]!('ok');
    expect(seen.released).toBe(1);
  });

  it('refuses a plain HTTP call over the in-flight limit with the registry error (429 too_many_requests), after registering it', async () => {
    const { deps, ctx, seen } = setup(false, 'http');
    await expect(fenceStage(deps, ctx)).rejects.toBe(limit);
    expect({ admitted: seen.admitted.length, finishers: ctx.finishers.length }).toEqual({ admitted: 1, finishers: 1 });
  });

  it('lets an MCP message over the limit through (it is refused after classify, in MCP form)', async () => {
    const { deps, ctx, live } = setup(false, 'mcp');
    await expect(fenceStage(deps, ctx)).resolves.toBeUndefined();
    expect(ctx.live).toBe(live);
  });

  it('refuses a tool outside the token scope with scope_exceeded before registering the call', async () => {
    const { deps, ctx, seen } = setup(true, 'http', ['crm']);
    await expect(fenceStage(deps, ctx)).rejects.toThrow(expect.objectContaining({ code: 'scope_exceeded', message: 'Tool billing is outside the session scope' }));
    expect(seen.admitted).toEqual([]);
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
