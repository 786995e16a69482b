// The authorize stage as a unit: what decision it leaves for the ledger and approval stages, and which it
// refuses. THE decision itself is tested in policy-decide.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { PipelineDeps } from '../../src/pipeline/deps.js';
import { authorizeStage } from '../../src/pipeline/stage-authorize.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import { basePolicy, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';

const RULES = `  - id: reads
    effect: allow
    tools: [billing, docs]
    methods: [GET]
  - id: pay
    effect: require_approval
    tools: [billing]
    methods: [POST]
    paths: ["/pay"]
    approval: { approvers: [approver], ttl: 1h, hold: 0s }
  - id: no-admin
    effect: deny
    tools: [billing]
    paths: ["/admin/**"]
`;

let policy: PolicySnapshot;
beforeAll(async () => {
  policy = await loadPolicyDir(writePolicyDir({ 'main.yaml': basePolicy(RULES) }), { now: 0, toolNames: new Set(['billing', 'docs']) });
});

const deps = {} as PipelineDeps;
function context(method: string, path: string, protocol = 'http'): RequestContext {
  return {
    policy,
    agent: policy.agents.get('bot'),
    route: { tool: { name: protocol === 'mcp' ? 'docs' : 'billing', protocol } },
    action: { method, path },
  } as unknown as RequestContext;
}

function refusal(ctx: RequestContext): { code: string; detail: string; fields: Record<string, unknown> } {
  try {
    authorizeStage(deps, ctx);
  } catch (err) {
    if (err instanceof GatewayError) return { code: err.code, detail: err.message, fields: err.fields };
    throw err;
  }
  throw new Error('the stage did not refuse');
}

describe('authorizeStage', () => {
  it('leaves the deciding allow or require_approval decision for the later stages', () => {
    const read = context('GET', '/invoices');
    authorizeStage(deps, read);
    expect([read.decision?.effect, read.decision?.rule?.id]).toEqual(['allow', 'reads']);
    const pay = context('POST', '/pay');
    authorizeStage(deps, pay);
    expect([pay.decision?.effect, pay.decision?.rule?.id]).toEqual(['require_approval', 'pay']);
  });

  it('refuses a deny with its rule, and a call no rule allows, keeping the decision for the audit record', () => {
    const admin = context('GET', '/admin/users');
    expect(refusal(admin)).toEqual({ code: 'policy_denied', detail: 'Denied by rule no-admin', fields: { rule_id: 'no-admin' } });
    expect([admin.decision?.effect, admin.decision?.rule?.id]).toEqual(['deny', 'no-admin']);
    const unmatched = context('DELETE', '/invoices/1');
    expect(refusal(unmatched)).toEqual({ code: 'policy_denied', detail: 'No policy rule allows this call', fields: {} });
    expect([unmatched.decision?.effect, unmatched.decision?.rule]).toEqual(['deny', null]);
  });

  it('leaves no decision for MCP transport plumbing (governed by scope alone)', () => {
    const ctx = context('DELETE', '/', 'mcp');
    authorizeStage(deps, ctx);
    expect(ctx.decision).toBeUndefined();
  });
});
