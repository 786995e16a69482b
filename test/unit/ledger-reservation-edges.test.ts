// LedgerReservation settles a forwarded call exactly once, and the right way: the captured answer is recorded
// (headers lower-cased, minus this exchange's X-Request-Id and replay marker; a body over 1 MiB keeps only
// its digest and is unknown), a call that provably never left the gateway is released, anything else once
// sent is unknown with the reason and HTTP status of what happened. Over the memory store.
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { MAX_RECORDED_BODY_BYTES } from '../../src/ledger/reservation.js';
import type { ForwardResult } from '../../src/upstream/forward.js';
import { T0 } from '../contract/ledger-contract.js';
import { pendingForever, reserveAgain, reservedCall, SETTLED_AT, stateOf } from '../helpers/ledger-reservation.js';

const SHA = 'cd'.repeat(32);
const result = (status: number): ForwardResult => ({ status, upstreamMs: 1, totalMs: 2, outcome: 'ok' }) as ForwardResult;
const captured = (body: string, truncated = false) => ({ body: Buffer.from(body), truncated, sha256: SHA, bytes: truncated ? 2_000_000 : body.length });

async function failure(run: Promise<unknown>): Promise<unknown> {
  return run.then(
    () => 'resolved',
    (err: unknown) => err,
  );
}

describe('LedgerReservation: recording the answer', () => {
  it('captures up to 1 MiB and records status and headers, without the exchange-bound ones', async () => {
    const { store, reservation, entry, hooks, writes } = await reservedCall();
    const options = reservation.forwardOptions();
    expect(options.capture).toStrictEqual({ maxBytes: 1_048_576 });
    expect(MAX_RECORDED_BODY_BYTES).toBe(1_048_576);
    const headers = { 'Content-Type': 'application/json', 'X-Request-Id': 'req_old', 'Idempotent-Replayed': 'true', 'X-Tool': ['a', 'b'] };
    options.onResponse!(201, headers);
    await options.onCaptured!(captured('{"ok":1}'));
    expect(await reservation.track(Promise.resolve(result(201)))).toStrictEqual(result(201));
    await reservation.settleIfOpen();
    expect(await reservation.releaseForHold()).toBe(false);
    expect({ hooks, writes }).toStrictEqual({ hooks: [], writes: [['complete', entry.entryId, entry.attempt, SETTLED_AT]] });
    expect(await stateOf(store)).toStrictEqual([['completed', null, 201, SETTLED_AT]]);
    const again = await reserveAgain(store);
    expect(again.kind === 'replay' && again.entry.response).toStrictEqual({
      status: 201,
      headers: { 'content-type': 'application/json', 'x-tool': ['a', 'b'] },
      body: Buffer.from('{"ok":1}'),
    });
  });

  it('keeps only the digest of a body over the limit, and reports the entry unknown with the status', async () => {
    const { store, reservation, entry, hooks } = await reservedCall();
    const options = reservation.forwardOptions();
    options.onResponse!(200, {});
    await options.onCaptured!(captured('the first MiB', true));
    await reservation.track(Promise.resolve(result(200)));
    expect(hooks).toStrictEqual([['unknown', entry.entryId, 'body_too_large', 200]]);
    const [listed] = await store.ledger.list('ses_a', SETTLED_AT);
    expect([listed!.state, listed!.unknownReason, listed!.bodySha256, listed!.bodyBytes]).toStrictEqual(['unknown', 'body_too_large', SHA, 2_000_000]);
  });

  it('reports nothing when the store no longer held the entry for this attempt', async () => {
    const { store, reservation, entry, hooks, writes } = await reservedCall();
    await store.ledger.markUnknown(entry.entryId, entry.attempt, 'gateway_restart', SETTLED_AT);
    await reservation.forwardOptions().onCaptured!(captured('x', true));
    await reservation.track(Promise.resolve(result(200)));
    expect({ hooks, writes: writes.map((w) => w[0]) }).toStrictEqual({ hooks: [], writes: ['complete'] });
  });

  it('a store that fails while recording leaves the entry to be settled as unknown', async () => {
    const { store, reservation, entry, hooks } = await reservedCall();
    const disk = new Error('disk full');
    const complete = store.ledger.complete.bind(store.ledger);
    store.ledger.complete = () => Promise.reject(disk);
    const options = reservation.forwardOptions();
    options.onResponse!(207, {});
    await options.onCaptured!(captured('{}'));
    store.ledger.complete = complete;
    await reservation.track(Promise.resolve(result(207)));
    expect(hooks).toStrictEqual([['error', disk], ['unknown', entry.entryId, 'aborted_mid_response', 207]]);
    expect(await stateOf(store)).toStrictEqual([['unknown', 'aborted_mid_response', null, SETTLED_AT]]);
  });
});

describe('LedgerReservation: a forward that failed', () => {
  const notSent = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'UND_ERR_CONNECT_TIMEOUT'];

  it.each(notSent)('%s, bare or as the cause of the gateway error, releases the entry and rethrows', async (code) => {
    for (const err of [Object.assign(new Error(code), { code }), new GatewayError('upstream_unreachable', { cause: { code } })]) {
      const { store, reservation, entry, hooks, writes } = await reservedCall();
      expect(await failure(reservation.track(Promise.reject(err)))).toBe(err);
      await reservation.settleIfOpen();
      expect({ hooks, writes }).toStrictEqual({ hooks: [], writes: [['release', entry.entryId, entry.attempt, SETTLED_AT]] });
      expect(await stateOf(store)).toStrictEqual([]);
    }
  });

  it.each([
    ['a gateway timeout', new GatewayError('upstream_timeout'), 'upstream_timeout', 504],
    ['a reset after sending', new GatewayError('upstream_unreachable', { cause: { code: 'ECONNRESET' } }), 'upstream_reset', 502],
    ['a gateway error without a cause', new GatewayError('upstream_unreachable'), 'upstream_reset', 502],
    ['a bare error with another code', Object.assign(new Error('reset'), { code: 'ECONNRESET' }), 'upstream_reset', 500],
    ['a code that is not a string', { code: 111 }, 'upstream_reset', 500],
    ['null', null, 'upstream_reset', 500],
  ])('%s makes the entry unknown with that reason and status, once', async (_name, err, reason, status) => {
    const { store, reservation, entry, hooks, writes } = await reservedCall();
    expect(await failure(reservation.track(Promise.reject(err)))).toBe(err);
    await reservation.settleIfOpen();
    expect(await reservation.releaseForHold()).toBe(false);
    expect(hooks).toStrictEqual([['unknown', entry.entryId, reason, status]]);
    expect(writes).toStrictEqual([['markUnknown', entry.entryId, entry.attempt, reason, SETTLED_AT]]);
    expect(await stateOf(store)).toStrictEqual([['unknown', reason, null, SETTLED_AT]]);
  });

  it('a release the store refuses is reported and retried by the finisher', async () => {
    const { store, reservation, hooks, writes } = await reservedCall();
    const disk = new Error('disk full');
    const release = store.ledger.release.bind(store.ledger);
    store.ledger.release = () => Promise.reject(disk);
    await failure(reservation.track(Promise.reject({ code: 'ECONNREFUSED' })));
    store.ledger.release = release;
    expect(hooks).toStrictEqual([['error', disk]]);
    await reservation.settleIfOpen();
    expect(writes.map((w) => w[0])).toStrictEqual(['release', 'markUnknown']);
    expect(await stateOf(store)).toStrictEqual([['unknown', 'aborted_mid_response', null, SETTLED_AT]]);
  });
  it('a store that fails while marking the entry unknown is reported, and the finisher tries again', async () => {
    const { store, reservation, entry, hooks, writes } = await reservedCall();
    const disk = new Error('disk full');
    const markUnknown = store.ledger.markUnknown.bind(store.ledger);
    store.ledger.markUnknown = () => Promise.reject(disk);
    expect(await failure(reservation.track(Promise.reject(new GatewayError('upstream_timeout'))))).toStrictEqual(new GatewayError('upstream_timeout'));
    store.ledger.markUnknown = markUnknown;
    expect(hooks).toStrictEqual([['error', disk]]);
    await reservation.settleIfOpen();
    expect(hooks).toStrictEqual([['error', disk], ['unknown', entry.entryId, 'aborted_mid_response', 0]]);
    expect(writes.map((w) => w[3])).toStrictEqual(['upstream_timeout', 'aborted_mid_response']);
    expect(await stateOf(store)).toStrictEqual([['unknown', 'aborted_mid_response', null, SETTLED_AT]]);
  });
});

describe('LedgerReservation: a forward that ended without a recorded answer', () => {
  it('resolved without a captured body (the tool failed mid-body): unknown with the relayed status', async () => {
    const { store, reservation, entry, hooks, writes } = await reservedCall();
    expect(await reservation.track(Promise.resolve(result(203)))).toStrictEqual(result(203));
    await reservation.settleIfOpen();
    expect(hooks).toStrictEqual([['unknown', entry.entryId, 'aborted_mid_response', 203]]);
    expect(writes).toStrictEqual([['markUnknown', entry.entryId, entry.attempt, 'aborted_mid_response', SETTLED_AT]]);
    expect(await stateOf(store)).toStrictEqual([['unknown', 'aborted_mid_response', null, SETTLED_AT]]);
  });

  it('the finisher settles a call still at the tool as unknown, with the status the tool had sent', async () => {
    const { reservation, entry, hooks, writes } = await reservedCall();
    void reservation.track(pendingForever());
    reservation.forwardOptions().onResponse!(206, {});
    await reservation.settleIfOpen();
    await reservation.settleIfOpen();
    expect(hooks).toStrictEqual([['unknown', entry.entryId, 'aborted_mid_response', 206]]);
    expect(writes.map((w) => w[0])).toStrictEqual(['markUnknown']);
  });

  it('the finisher releases a call that was never forwarded, once', async () => {
    const { store, reservation, entry, hooks, writes } = await reservedCall();
    await reservation.settleIfOpen();
    await reservation.settleIfOpen();
    expect({ hooks, writes, state: await stateOf(store) }).toStrictEqual({ hooks: [], writes: [['release', entry.entryId, entry.attempt, SETTLED_AT]], state: [] });
  });

  it('an entry the store no longer holds for this attempt is not reported, and not settled again', async () => {
    const { store, reservation, entry, hooks, writes } = await reservedCall();
    await store.ledger.markUnknown(entry.entryId, entry.attempt, 'gateway_restart', T0 + 1);
    await reservation.track(Promise.resolve(result(200)));
    await reservation.settleIfOpen();
    expect({ hooks, writes: writes.map((w) => w[0]) }).toStrictEqual({ hooks: [], writes: ['markUnknown'] });
    expect(await stateOf(store)).toStrictEqual([['unknown', 'gateway_restart', null, T0 + 1]]);
  });
});
