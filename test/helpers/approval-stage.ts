// The approval stage (src/pipeline/stage-approval.ts) in isolation: a MemoryStore, a ManualClock, a policy
// snapshot the test may swap (deps.policy.current()), fake audit/signal/wakeups that record what they are
// given, a fake response (close listeners, writableFinished) and a fake live call recording its phases.
import { EventEmitter } from 'node:events';
import { actionDigest } from '../../src/approvals/digest.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { approvalStage } from '../../src/pipeline/stage-approval.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { PipelineDeps } from '../../src/pipeline/deps.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import type { Decision, PolicySnapshot } from '../../src/policy/types.js';
import { SessionLifecycle } from '../../src/sessions/lifecycle.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { ApprovalRecord } from '../../src/store/approval-types.js';
import type { SessionRecord } from '../../src/store/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { refundsPolicy, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';

export const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
export const BODY = '{"amount":5}';

/** The shared refunds policy (test/fixtures/policy/write-policy-dir.ts), loaded. */
export function loadPolicy(opts: { hold?: string; effect?: string } = {}): Promise<PolicySnapshot> {
  return loadPolicyDir(writePolicyDir({ 'main.yaml': refundsPolicy(opts.hold, opts.effect) }), { now: T0, toolNames: new Set(['billing']) });
}

export const evaluate = (policy: PolicySnapshot): Decision =>
  policy.evaluate({ agentId: 'bot', roles: ['billing-agent'], tool: 'billing', method: 'POST', path: '/refunds' });

/** The digest of the request every test sends (computed from its facts, not by the stage). */
export const DIGEST = actionDigest({
  tool: 'billing', method: 'POST', path: '/refunds', query: '?order=7', body: Buffer.from(BODY), contentType: 'application/json', mcpTool: undefined, mcpMethod: undefined,
});

/** A response the stage listens on: `close` listeners and writableFinished are all it reads. */
export class FakeResponse extends EventEmitter {
  writableFinished = false;
  statusCode = 0;
  body = '';
  private readonly headers = new Map<string, string>();
  hasHeader = (name: string): boolean => this.headers.has(name);
  setHeader = (name: string, value: string): void => void this.headers.set(name, value);
  end(body: Buffer): void {
    this.body = body.toString();
  }
}

/** The part of LiveCall the stage uses, recording each phase it is put in. */
export function fakeLive() {
  const controller = new AbortController();
  const phases: string[] = [];
  return {
    phases,
    end: (reason: Error) => controller.abort(reason),
    signal: controller.signal,
    throwIfEnded: () => {
      if (controller.signal.aborted) throw controller.signal.reason;
    },
    setPhase: (phase: string) => void phases.push(phase),
  };
}

export interface StageSetup {
  store: MemoryStore;
  clock: ManualClock;
  deps: PipelineDeps;
  ctx: RequestContext;
  res: FakeResponse;
  session: SessionRecord;
  /** Replace to change what deps.policy.current() returns. */
  current: { policy: PolicySnapshot };
  written: AuditEvent[];
  notified: { count: number };
  sleeps: number[];
  /** Runs inside each wait of a hold, after the clock moved by the wait. */
  duringSleep: { run: (n: number) => Promise<void> | void };
}

export interface SetupOptions {
  hold?: string;
  consoleUrl?: (() => string | null) | undefined;
  ctx?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export async function setup(opts: SetupOptions = {}): Promise<StageSetup> {
  const store = new MemoryStore();
  const clock = new ManualClock(T0);
  const policy = await loadPolicy({ ...(opts.hold !== undefined && { hold: opts.hold }) });
  const created = await store.sessions.create({
    sessionId: 'ses_1', taskId: 'task_1', agentId: 'bot', state: 'active', stateReason: null, epoch: 3, scope: ['billing'], originalScope: ['billing'],
    createdAt: T0, updatedAt: T0, leaseExpiresAt: T0 + 3_600_000, resumes: 2, metadata: null,
  });
  if (!created.ok) throw new Error('fixture');
  const written: AuditEvent[] = [];
  const audit = { write: (e: AuditEvent) => void written.push(e), close: () => undefined, isAvailable: () => true, countRefused: () => undefined };
  const current = { policy };
  const notified = { count: 0 };
  const sleeps: number[] = [];
  const duringSleep: StageSetup['duringSleep'] = { run: () => undefined };
  const wakeups = {
    sleep: async (_id: string, ms: number) => {
      sleeps.push(ms);
      clock.advance(ms);
      await duringSleep.run(sleeps.length);
    },
  };
  const deps = {
    store, clock, audit, wakeups, replicaId: 'rep_1',
    policy: { current: () => current.policy },
    lifecycle: new SessionLifecycle(store, clock, audit),
    approvalSignal: { notify: () => void (notified.count += 1) },
    logger: { error: () => undefined },
    ...('consoleUrl' in opts ? { consoleUrl: opts.consoleUrl } : {}),
  } as unknown as PipelineDeps;
  const res = new FakeResponse();
  const ctx = requestContext(policy, created.session, res, opts);
  return { store, clock, deps, ctx, res, session: created.session, current, written, notified, sleeps, duringSleep };
}

function requestContext(policy: PolicySnapshot, session: SessionRecord, res: FakeResponse, opts: SetupOptions): RequestContext {
  return {
    requestId: 'req_1', startedAt: T0, traceId: undefined, policy, session, res,
    req: { method: 'POST', url: '/tools/billing/refunds?order=7', headers: { 'content-type': 'application/json', ...opts.headers }, socket: { remoteAddress: '10.0.0.7' } },
    route: { tool: { name: 'billing', protocol: 'http' }, segments: ['refunds'], path: '/refunds', query: '?order=7', pathToken: undefined, auditPath: '/tools/billing/refunds' },
    token: { jti: 'jti_1', sessionId: 'ses_1', agentId: 'bot', epoch: 3, scope: ['billing'], iat: T0 / 1000, exp: T0 / 1000 + 900, nbf: T0 / 1000 },
    agent: policy.agents.get('bot'),
    action: { method: 'POST', path: '/refunds', body: Buffer.from(BODY), bodySha256: 'b'.repeat(64), mcpTool: undefined },
    decision: evaluate(policy),
    sideEvents: [], auditExtra: {}, finishers: [], beforeEnd: () => undefined,
    ...opts.ctx,
  } as unknown as RequestContext;
}

/** What the stage threw, or undefined when it returned. */
export async function outcomeOf(run: Promise<void>): Promise<unknown> {
  return run.then(
    () => undefined,
    (e: unknown) => e,
  );
}

export async function onlyApproval(store: MemoryStore): Promise<ApprovalRecord> {
  const all = await store.approvals.list({});
  if (all.length !== 1) throw new Error(`expected one approval, found ${all.length}`);
  return all[0]!;
}

export const approve = (s: StageSetup, approvalId: string, state: 'approved' | 'denied' = 'approved') =>
  s.store.approvals.decide(approvalId, { state, decidedBy: 'pat', comment: null, now: s.clock.now() });

/** The envelope every lifecycle record of this request carries (the agent's call as actor). */
export const agentEnvelope = (time: number, policyRevision: string) => ({
  time, requestId: 'req_1', actor: { id: 'bot', type: 'agent' }, tokenJti: 'jti_1', sessionId: 'ses_1', epoch: 3, taskId: 'task_1',
  policyRevision, method: 'POST', path: '/tools/billing/refunds', srcIp: '10.0.0.7',
});

/** The approval.request record of approval `id`, as the stage builds it at `time`. */
export const requestRecord = (s: StageSetup, id: string, time = T0) => ({
  event: 'approval.request', ...agentEnvelope(time, s.ctx.policy.revision), status: 'ok', disposition: 'delayed',
  authorizations: [{ decision: 'require_approval', ruleId: 'refunds' }], tool: 'billing',
  extra: { approval_id: id, approval_state: 'pending', rule_id: 'refunds', digest: DIGEST, agent_id: 'bot' },
});

/** Runs the stage and returns its refusal; fails when it returned or threw something else. */
export async function refusal(s: StageSetup): Promise<GatewayError> {
  const err = await outcomeOf(approvalStage(s.deps, s.ctx));
  if (!(err instanceof GatewayError)) throw new Error(`the stage did not refuse: ${String(err)}`);
  return err;
}
