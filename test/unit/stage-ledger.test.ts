// The ledger stage's own decisions as a unit (the gateway-level behaviour is in test/integration/ledger*.ts):
// which calls touch the store at all, the missing-key refusal, and what a reservation leaves on the request.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { LedgerReservation } from '../../src/ledger/reservation.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { PipelineDeps } from '../../src/pipeline/deps.js';
import { ledgerStage } from '../../src/pipeline/stage-ledger.js';
import type { Decision } from '../../src/policy/types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { SessionRecord } from '../../src/store/types.js';
import { ManualClock } from '../../src/util/clock.js';

const NOW = 1_800_000_000_000;
const session: SessionRecord = {
  sessionId: 'ses_1', taskId: 't', agentId: 'bot', state: 'active', stateReason: null, epoch: 2, scope: ['billing'], originalScope: ['billing'],
  createdAt: NOW, updatedAt: NOW, leaseExpiresAt: NOW + 60_000, resumes: 1, metadata: null,
};

const decision = (over: Partial<Decision> = {}): Decision =>
  ({ effect: 'allow', rule: { id: 'writes' }, matched: [], shadow: [], sideEffects: true, idempotency: 'optional', ...over }) as Decision;

async function setup(over: { decision?: Decision; key?: string } = {}) {
  const store = new MemoryStore();
  await store.sessions.create(session);
  const logged: unknown[][] = [];
  const deps = { store, clock: new ManualClock(NOW), replicaId: 'rep_1', logger: { error: (...args: unknown[]) => void logged.push(args) } } as unknown as PipelineDeps;
  const ctx = {
    requestId: 'req_1',
    req: { headers: over.key === undefined ? {} : { 'idempotency-key': over.key }, socket: {} },
    policy: { revision: 'rev_1' },
    route: { tool: { name: 'billing' }, query: '' },
    session: { sessionId: 'ses_1', epoch: 2 },
    action: { method: 'POST', path: '/pay', body: null, mcpTool: undefined },
    decision: over.decision,
    auditExtra: {},
    finishers: [],
    sideEvents: [],
    startedAt: NOW - 40,
    beforeEnd: () => undefined,
    res: replyRecorder(),
  } as unknown as RequestContext;
  return { deps, ctx, store, logged };
}

/** The part of a ServerResponse a replay writes to. */
function replyRecorder() {
  const headers = new Map<string, string>();
  return {
    statusCode: 0,
    body: '',
    hasHeader: (name: string) => headers.has(name),
    setHeader: (name: string, value: string) => void headers.set(name, value),
    end(body: Buffer) {
      this.body = body.toString();
    },
  };
}

async function refusal(run: Promise<void>): Promise<{ code: string; detail: string }> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GatewayError)) throw new Error('the stage did not refuse');
  return { code: err.code, detail: err.message };
}

describe('ledgerStage', () => {
  it('touches nothing for MCP plumbing (no decision) or a call without side effects and without a key', async () => {
    for (const d of [undefined, decision({ sideEffects: false })]) {
      const { deps, ctx } = await setup({ ...(d && { decision: d }) });
      await ledgerStage({ ...deps, store: undefined } as unknown as PipelineDeps, ctx);
      expect({ ledger: ctx.ledger, extra: ctx.auditExtra, finishers: ctx.finishers.length }).toStrictEqual({ ledger: undefined, extra: {}, finishers: 0 });
    }
  });

  it('still validates a key on MCP plumbing', async () => {
    const { deps, ctx } = await setup({ key: '' });
    expect((await refusal(ledgerStage(deps, ctx))).code).toBe('bad_request');
  });

  it('refuses a call whose rule requires a key and got none, naming the rule', async () => {
    const { deps, ctx } = await setup({ decision: decision({ idempotency: 'required', sideEffects: false }) });
    expect(await refusal(ledgerStage(deps, ctx))).toEqual({ code: 'idempotency_key_missing', detail: 'Rule writes requires an Idempotency-Key header' });
    const none = await setup({ decision: decision({ idempotency: 'required', rule: null }) });
    expect(await refusal(ledgerStage(none.deps, none.ctx))).toEqual({ code: 'idempotency_key_missing', detail: 'Rule  requires an Idempotency-Key header' });
  });

  it('reserves a side-effecting call, and a read that carries a key, releasing the entry in a finisher', async () => {
    for (const [d, key] of [[decision(), undefined], [decision({ sideEffects: false }), 'k-1']] as const) {
      const { deps, ctx, store } = await setup({ decision: d, ...(key !== undefined && { key }) });
      await ledgerStage(deps, ctx);
      expect(ctx.ledger).toBeInstanceOf(LedgerReservation);
      const entryId = ctx.ledger!.entry.entryId;
      expect(ctx.auditExtra).toStrictEqual({ ...(key !== undefined && { idempotency_key: key }), ledger_entry_id: entryId, ledger_occurrence: 1 });
      expect((await store.ledger.list('ses_1', NOW)).map((e) => [e.entryId, e.state])).toEqual([[entryId, 'in_flight']]);
      expect(ctx.finishers.length).toBe(1);
      await ctx.finishers[0]!('ok');
      expect(await store.ledger.list('ses_1', NOW)).toEqual([]);
    }
  });

  it('replays a recorded answer: its status in the replay record, the time since the request started', async () => {
    const first = await setup({ decision: decision(), key: 'k-2' });
    await ledgerStage(first.deps, first.ctx);
    const entry = first.ctx.ledger!.entry;
    const body = Buffer.from('{"paid":true}');
    const outcome = { status: 201, headers: { 'content-type': 'application/json' }, body, bodySha256: 'x'.repeat(64), bodyBytes: body.length, now: NOW };
    expect(await first.store.ledger.complete(entry.entryId, entry.attempt, outcome)).toBe(true);
    const again = { ...first.ctx, ledger: undefined, auditExtra: {}, sideEvents: [], finishers: [] } as unknown as RequestContext;
    await ledgerStage(first.deps, again);
    expect([again.answered, again.auditExtra.replayed, again.ledger]).toEqual(['ledger', true, undefined]);
    expect(again.sideEvents.map((e) => [e.event, e.httpStatus, e.durationMs])).toEqual([['ledger.replay', 201, 40]]);
    expect([(again.res as unknown as { statusCode: number }).statusCode, (again.res as unknown as { body: string }).body]).toEqual([201, '{"paid":true}']);
  });

  it('replays an entry resolved done as 200, whatever status it recorded', async () => {
    const first = await setup({ decision: decision(), key: 'k-3' });
    await ledgerStage(first.deps, first.ctx);
    const entry = first.ctx.ledger!.entry;
    // An answer over the body limit: the entry becomes unknown with its status kept, then an admin resolves it.
    const outcome = { status: 201, headers: {}, body: null, bodySha256: 'x'.repeat(64), bodyBytes: 2 << 20, now: NOW };
    expect(await first.store.ledger.complete(entry.entryId, entry.attempt, outcome)).toBe(true);
    expect((await first.store.ledger.resolve('ses_1', entry.entryId, 'done', 'pat', NOW)).ok).toBe(true);
    const again = { ...first.ctx, ledger: undefined, auditExtra: {}, sideEvents: [], finishers: [] } as unknown as RequestContext;
    await ledgerStage(first.deps, again);
    expect(again.sideEvents.map((e) => [e.event, e.httpStatus])).toEqual([['ledger.replay', 200]]);
    expect((again.res as unknown as { statusCode: number }).statusCode).toBe(200);
  });

  it('logs a reservation that cannot be settled, naming the request and the entry', async () => {
    const { deps, ctx, store, logged } = await setup({ decision: decision() });
    await ledgerStage(deps, ctx);
    const failure = new Error('store down');
    store.ledger.release = async () => {
      throw failure;
    };
    await ctx.finishers[0]!('ok');
    expect(logged).toEqual([[{ err: failure, request_id: 'req_1', entry_id: ctx.ledger!.entry.entryId }, 'ledger entry could not be settled']]);
  });
});
