// SPEC §10: the Idempotency-Key header end to end through the in-process gateway (real SQLite file, real
// upstream on port 0): first use forwarded, later uses replayed across epochs, misuse refused.
import { describe, expect, it } from 'vitest';
import { rawRequest } from '../helpers/forge.js';
import { useLedgerGateway, waitFor } from '../helpers/ledger-gateway.js';

describe('idempotency ledger: Idempotency-Key (SPEC §10)', () => {
  const g = useLedgerGateway('ledger-key');
  const { open, resume, post } = g;

  const keyed = (token: string, key: string, body: unknown = { amount: 5 }, path = '/payments/k') => post(token, path, body, { 'idempotency-key': key });

  it('forwards the first use, replays later ones across epochs, and refuses another request with 422', async () => {
    const s = await open();
    const before = g.upstream.seen.length;
    const first = await keyed(s.token, 'key-one');
    const second = await keyed(s.token, 'key-one');
    expect(second).toMatchObject({ status: first.status, text: first.text });
    expect(second.headers['idempotent-replayed']).toBe('true');
    const r = await resume(s.id);
    const third = await keyed(r.json.token, '"key-one"'); // the draft's sf-string form names the same key
    expect(third).toMatchObject({ status: first.status, text: first.text });
    expect(g.upstream.seen.length).toBe(before + 1);
    const reused = await keyed(r.json.token, 'key-one', { amount: 6 });
    expect(reused.status).toBe(422);
    expect(reused.json.code).toBe('idempotency_key_reused');
    // Keyed calls never enter the occurrence ledger.
    expect(r.json.ledger.count).toBe(0);
  });

  it('answers 409 idempotency_in_progress with Retry-After while the first is in flight (one forwarded)', async () => {
    const s = await open();
    const { release, restore } = g.holdAnswers();
    try {
      const before = g.upstream.seen.length;
      const first = keyed(s.token, 'concurrent-key');
      await waitFor(() => g.upstream.seen.length > before);
      const second = await keyed(s.token, 'concurrent-key');
      expect(second.status).toBe(409);
      expect(second.json.code).toBe('idempotency_in_progress');
      expect(second.headers['retry-after']).toBe('1');
      release();
      expect((await first).status).toBe(201);
      expect(g.upstream.seen.length).toBe(before + 1);
    } finally {
      restore();
    }
  });

  it('has the outcome recorded before the answer ends: an immediate retry replays, never 409', async () => {
    const s = await open();
    for (let i = 0; i < 10; i++) {
      const first = await keyed(s.token, `instant-${i}`);
      const retry = await keyed(s.token, `instant-${i}`);
      expect(retry.status).toBe(first.status);
      expect(retry.headers['idempotent-replayed']).toBe('true');
    }
  });

  it('requires a key where the rule says so, and refuses malformed keys with bad_request', async () => {
    const s = await open();
    const missing = await post(s.token, '/transfers', {});
    expect(missing.status).toBe(400);
    expect(missing.json.code).toBe('idempotency_key_missing');
    expect((await post(s.token, '/transfers', {}, { 'idempotency-key': 't-1' })).status).toBe(201);
    for (const bad of ['x'.repeat(256), 'tab\there', 'caf\u00e9', '"unterminated\\"', '""']) {
      const res = await post(s.token, '/transfers', {}, { 'idempotency-key': bad });
      expect(res.status, bad).toBe(400);
      expect(res.json.code).toBe('bad_request');
    }
    expect((await post(s.token, '/transfers', {}, { 'idempotency-key': 'k'.repeat(255) })).status).toBe(201);
    const empty = await rawKeyed(g.t.data, s.token, '');
    expect(empty).toContain('400 Bad Request');
  });
});

/** An empty Idempotency-Key header, which HTTP clients will not send. */
async function rawKeyed(dataUrl: string, token: string, key: string): Promise<string> {
  const text = `POST /tools/billing/transfers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nIdempotency-Key: ${key}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`;
  return (await rawRequest(dataUrl, text)).raw;
}

