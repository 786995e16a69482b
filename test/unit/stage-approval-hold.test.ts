// A call held by the approval stage (rule hold 30s; each wait of the fake wakeups moves the ManualClock): what
// is written before a wait, what ends the hold early (the client gone, the live call ended), the re-check after
// a wait against the current policy and session, and the ledger reservation let go and taken back.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { approvalStage } from '../../src/pipeline/stage-approval.js';
import { ledgerStage } from '../../src/pipeline/stage-ledger.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import { approve, DIGEST, fakeLive, loadPolicy, onlyApproval, outcomeOf, refusal, requestRecord, setup, T0, type StageSetup } from '../helpers/approval-stage.js';

const held = (over: Parameters<typeof setup>[0] = {}) => setup({ hold: '30s', ...over });

describe('approvalStage: a held call', () => {
  it('writes the records so far before it waits, then consumes the approval decided meanwhile', async () => {
    const live = fakeLive();
    const s = await held({ ctx: { live } });
    let during: unknown;
    s.duringSleep.run = async () => {
      const approval = await onlyApproval(s.store);
      during = [s.written, [...s.ctx.sideEvents], [...live.phases], s.res.listenerCount('close'), requestRecord(s, approval.approvalId)];
      await approve(s, approval.approvalId);
    };
    expect(await outcomeOf(approvalStage(s.deps, s.ctx))).toBe(undefined);
    const [written, side, phases, listeners, request] = during as unknown[];
    expect([written, side, phases, listeners]).toStrictEqual([[request], [], ['held'], 1]);
    const id = (await onlyApproval(s.store)).approvalId;
    expect(s.ctx.auditExtra).toStrictEqual({ action_digest: DIGEST, approval_id: id });
    expect(s.ctx.sideEvents.map((e) => [e.event, e.time, e.disposition])).toStrictEqual([['approval.consume', T0 + 100, 'approved']]);
    expect([s.written.length, s.sleeps, s.notified.count, live.phases, s.res.listenerCount('close')]).toStrictEqual([1, [100], 2, ['held', 'admitted'], 0]);
  });

  it('stops holding when the client goes away before its answer was written', async () => {
    const s = await held();
    s.duringSleep.run = () => void s.res.emit('close');
    const err = await refusal(s);
    expect([err.code, s.sleeps, (await onlyApproval(s.store)).state]).toStrictEqual(['approval_required', [100], 'pending']);
    expect(s.res.listenerCount('close')).toBe(0);
  });

  it('keeps holding on a close after the response finished', async () => {
    const s = await held();
    s.duringSleep.run = async (n) => {
      if (n === 1) {
        s.res.writableFinished = true;
        s.res.emit('close');
      }
      if (n === 3) await approve(s, (await onlyApproval(s.store)).approvalId);
    };
    expect(await outcomeOf(approvalStage(s.deps, s.ctx))).toBe(undefined);
    expect([s.sleeps, (await onlyApproval(s.store)).state]).toStrictEqual([[100, 100, 100], 'consumed']);
  });

  it('answers the session refusal when the live call is ended during the hold, a shutdown with approval_required', async () => {
    for (const reason of [new GatewayError('session_revoked', { bearer: true }), new Error('shutting down')]) {
      const live = fakeLive();
      const s = await held({ ctx: { live } });
      s.duringSleep.run = (n) => void (n === 2 && live.end(reason));
      const err = await outcomeOf(approvalStage(s.deps, s.ctx));
      const id = (await onlyApproval(s.store)).approvalId;
      if (reason instanceof GatewayError) expect(err).toBe(reason);
      else expect([(err as GatewayError).code, (err as GatewayError).fields.approval_id]).toStrictEqual(['approval_required', id]);
      expect([s.sleeps, live.phases, s.ctx.auditExtra]).toStrictEqual([[100, 100], ['held', 'admitted'], { action_digest: DIGEST, ...(reason instanceof GatewayError ? {} : { approval_id: id }) }]);
    }
  });

  it('refuses a call whose live call ended before the stage, creating nothing', async () => {
    const live = fakeLive();
    const reason = new GatewayError('session_stale_epoch', { bearer: true });
    live.end(reason);
    const s = await held({ ctx: { live } });
    expect(await outcomeOf(approvalStage(s.deps, s.ctx))).toBe(reason);
    expect([await s.store.approvals.list({}), live.phases, s.res.listenerCount('close'), s.ctx.sideEvents]).toStrictEqual([[], [], 0, []]);
  });
});

describe('approvalStage: the re-check after a wait (the approval decided meanwhile stays unconsumed)', () => {
  /** During the first wait: `change`, then the approval is approved (which ends the wait). */
  async function recheckRefusal(s: StageSetup, change: () => Promise<void> | void): Promise<GatewayError> {
    s.duringSleep.run = async () => {
      await change();
      await approve(s, (await onlyApproval(s.store)).approvalId);
    };
    const err = await refusal(s);
    expect([s.sleeps, (await onlyApproval(s.store)).state]).toStrictEqual([[100], 'approved']);
    return err;
  }

  it('refuses with policy_denied when the current policy now denies the call', async () => {
    const s = await held();
    const deny = await loadPolicy({ effect: 'deny' });
    const err = await recheckRefusal(s, () => void (s.current.policy = deny));
    expect([err.code, err.fields]).toStrictEqual(['policy_denied', { rule_id: 'refunds' }]);
  });

  it('refuses with policy_denied a call whose hold ended without a decision once the policy denies it', async () => {
    const s = await held({ hold: '1s' });
    const deny = await loadPolicy({ effect: 'deny' });
    s.duringSleep.run = () => void (s.current.policy = deny);
    const err = await refusal(s);
    expect([err.code, s.sleeps.length, (await onlyApproval(s.store)).state]).toStrictEqual(['policy_denied', 10, 'pending']);
  });

  it('refuses with the session state as the store holds it now', async () => {
    const s = await held();
    const err = await recheckRefusal(s, async () => {
      await s.store.sessions.transition('ses_1', { from: ['active'], to: 'revoked', reason: 'test', now: s.clock.now() });
    });
    expect(err.code).toBe('session_revoked');
  });

  it('refuses a tool outside the token scope', async () => {
    const s = await held();
    s.ctx = { ...s.ctx, token: { ...s.ctx.token!, scope: ['crm'] } } as RequestContext;
    const err = await recheckRefusal(s, () => undefined);
    expect([err.code, err.message]).toStrictEqual(['scope_exceeded', 'Tool billing is outside the session scope']);
  });
});

describe('approvalStage: a held call and its ledger reservation', () => {
  const ledgerOf = (s: StageSetup) => s.store.ledger.list('ses_1', s.clock.now());

  it('lets the reservation go while it waits and reserves again once approved', async () => {
    const s = await held();
    await ledgerStage(s.deps, s.ctx);
    const before = s.ctx.ledger!;
    let during: unknown;
    s.duringSleep.run = async () => {
      during = await ledgerOf(s);
      await approve(s, (await onlyApproval(s.store)).approvalId);
    };
    expect(await outcomeOf(approvalStage(s.deps, s.ctx))).toBe(undefined);
    const after = s.ctx.ledger!;
    expect([during, after === before, (await ledgerOf(s)).map((e) => [e.entryId, e.state])]).toStrictEqual([[], false, [[after.entry.entryId, 'in_flight']]]);
    expect(s.ctx.auditExtra).toStrictEqual({
      action_digest: DIGEST, ledger_entry_id: after.entry.entryId, ledger_occurrence: after.occurrence, approval_id: (await onlyApproval(s.store)).approvalId,
    });
    expect(s.ctx.finishers.length).toBe(2);
  });

  it('reserves again once only, when the first approval it tries was consumed by another call', async () => {
    const s = await held();
    await ledgerStage(s.deps, s.ctx);
    const approvals = s.store.approvals;
    const consume = approvals.consume.bind(approvals);
    let raced: string | undefined;
    approvals.consume = async (id, use) => {
      if (raced !== undefined) return consume(id, use);
      raced = id;
      await consume(id, { ...use, requestId: 'req_other' });
      return null;
    };
    s.duringSleep.run = async () => {
      const first = await onlyApproval(s.store);
      await approve(s, first.approvalId);
      // A second approval for the same call, approved too (the newest is tried first).
      const second = await approvals.findOrCreatePending({ ...first, approvalId: 'apr_second', createdAt: s.clock.now() });
      await approve(s, second.approval.approvalId);
    };
    expect(await outcomeOf(approvalStage(s.deps, s.ctx))).toBe(undefined);
    const used = await approvals.list({ state: 'consumed' });
    expect([raced, used.map((a) => [a.approvalId, a.consumedRequestId]).sort()]).toStrictEqual([
      'apr_second', [['apr_second', 'req_other'], [s.ctx.auditExtra.approval_id, 'req_1']].sort(),
    ]);
    expect([(await ledgerOf(s)).map((e) => [e.entryId, e.state]), s.ctx.finishers.length]).toStrictEqual([[[s.ctx.ledger!.entry.entryId, 'in_flight']], 2]);
  });

  it('is answered from the ledger when a matching call completed meanwhile, consuming nothing', async () => {
    const s = await held({ headers: { 'idempotency-key': 'k-1' } });
    await ledgerStage(s.deps, s.ctx);
    let other: RequestContext | undefined;
    s.duringSleep.run = async () => {
      other = { ...s.ctx, requestId: 'req_2', ledger: undefined, auditExtra: {}, sideEvents: [], finishers: [] } as unknown as RequestContext;
      await ledgerStage(s.deps, other);
      const entry = other.ledger!.entry;
      const body = Buffer.from('{"refunded":true}');
      await s.store.ledger.complete(entry.entryId, entry.attempt, { status: 201, headers: {}, body, bodySha256: 'c'.repeat(64), bodyBytes: body.length, now: s.clock.now() });
      await approve(s, (await onlyApproval(s.store)).approvalId);
    };
    expect(await outcomeOf(approvalStage(s.deps, s.ctx))).toBe(undefined);
    const entryId = other!.ledger!.entry.entryId;
    expect(s.ctx.auditExtra).toStrictEqual({ action_digest: DIGEST, idempotency_key: 'k-1', ledger_entry_id: entryId, ledger_occurrence: 1, replayed: true });
    expect([s.ctx.answered, s.res.statusCode, s.res.body, (await onlyApproval(s.store)).state]).toStrictEqual(['ledger', 201, '{"refunded":true}', 'approved']);
    expect(s.ctx.sideEvents.map((e) => e.event)).toStrictEqual(['ledger.replay']);
  });
});
