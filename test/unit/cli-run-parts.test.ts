// Pure parts of `epochgate run` (SPEC §15): tool URL variable names, the child's environment, and when the
// token is refreshed (a third of its lifetime left) and the lease renewed.
import { describe, expect, it } from 'vitest';
import { childEnvironment, toolUrlVariable } from '../../src/cli/run-child.js';
import { heartbeatDelay, refreshDelay } from '../../src/cli/run-keeper.js';
import { parseRunArgs } from '../../src/cli/run-args.js';

const jws = (claims: object) => `eyJhbGciOiJFZERTQSJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
const session = { sessionId: 'ses_x', epoch: 3, token: 'tok', leaseExpiresAt: '', toolUrls: { billing: 'http://gw/tools/billing', 'crm-v2': 'http://gw/tools/crm-v2' }, checkpoint: null, resumed: true };

describe('epochgate run: parts', () => {
  it('names tool URL variables upper-cased with - (and .) as _', () => {
    expect(toolUrlVariable('billing')).toBe('EPOCHGATE_TOOL_URL_BILLING');
    expect(toolUrlVariable('crm-v2')).toBe('EPOCHGATE_TOOL_URL_CRM_V2');
    expect(toolUrlVariable('a.b')).toBe('EPOCHGATE_TOOL_URL_A_B');
  });

  it('builds the child environment, dropping variables an outer run set', () => {
    const base = { PATH: '/bin', EPOCHGATE_TOOL_URL_OLD: 'stale', EPOCHGATE_CHECKPOINT_FILE: '/old', EPOCHGATE_URL: 'kept' };
    const env = childEnvironment(base, session, { tokenFile: '/tmp/t/token', checkpointFile: undefined }, 'http://cp');
    expect(env).toEqual({
      PATH: '/bin',
      EPOCHGATE_URL: 'kept',
      EPOCHGATE_TOKEN: 'tok',
      EPOCHGATE_TOKEN_FILE: '/tmp/t/token',
      EPOCHGATE_SESSION_ID: 'ses_x',
      EPOCHGATE_EPOCH: '3',
      EPOCHGATE_CONTROL_URL: 'http://cp',
      EPOCHGATE_TOOL_URL_BILLING: 'http://gw/tools/billing',
      EPOCHGATE_TOOL_URL_CRM_V2: 'http://gw/tools/crm-v2',
    });
  });

  it('refreshes when a third of the token lifetime is left, and renews the lease at a third of what is left', () => {
    expect(refreshDelay(jws({ iat: 1000, exp: 1900 }), 1000_000)).toBe(600_000);
    expect(refreshDelay(jws({ iat: 1000, exp: 1900 }), 1700_000)).toBeLessThan(0);
    expect(heartbeatDelay(new Date(90_000).toISOString(), 0)).toBe(30_000);
    expect(heartbeatDelay(new Date(50).toISOString(), 0)).toBe(200);
    expect(heartbeatDelay(new Date(3_600_000).toISOString(), 0)).toBe(60_000);
  });

  it('parses the launcher flags and keeps the agent command untouched after --', () => {
    const parsed = parseRunArgs(['--agent', 'a', '--secret-env', 'S', '--scope', 'billing, crm', '--', 'node', 'agent.js', '--agent', 'x'], {});
    expect(parsed).toMatchObject({
      kind: 'run',
      options: { agentId: 'a', scope: ['billing', 'crm'], controlUrl: 'http://127.0.0.1:8081', restarts: 0, command: ['node', 'agent.js', '--agent', 'x'] },
    });
    expect(parseRunArgs(['--agent', 'a', '--secret-env', 'S', '--', 'true'], { EPOCHGATE_CONTROL_URL: 'http://cp:1/' })).toMatchObject({ options: { controlUrl: 'http://cp:1' } });
  });
});
