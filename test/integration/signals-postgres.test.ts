// Change signals between replicas over PostgreSQL LISTEN/NOTIFY (store/postgres/pg-signals.ts), against a
// real server: delivery to other replicas with the publisher's origin, no double delivery of one's own
// change, strict parsing of what arrives, reconnection after the listening connection is killed, and a
// publish that never rejects when the database is gone.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LISTENER_NAME, PgSignals } from '../../src/store/postgres/pg-signals.js';
import type { StoreChange } from '../../src/store/signal-types.js';
import { admin, freshDatabase, type FreshDatabase } from '../helpers/pg-database.js';
import { pgRunUrl } from '../helpers/postgres.js';

let db: FreshDatabase;
const open: PgSignals[] = [];

beforeAll(async () => {
  db = await freshDatabase(pgRunUrl(), 'signals');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await db.drop();
});

function signals(origin: string, errors: unknown[] = [], url = db.url): PgSignals {
  const s = new PgSignals({ connectionString: url, origin, onError: (err) => errors.push(err), maxBackoffMs: 200 }).start();
  open.push(s);
  return s;
}

/** Resolves with the next change a replica's listeners are told of. */
function nextChange(s: PgSignals, filter: (c: StoreChange) => boolean = () => true): Promise<StoreChange> {
  return new Promise((resolve) => {
    const off = s.subscribe((c) => {
      if (!filter(c)) return;
      off();
      resolve(c);
    });
  });
}

describe('PgSignals (LISTEN/NOTIFY)', () => {
  it('tells another replica of a change with the publisher as origin, and the publisher exactly once', async () => {
    const a = signals('rep_a');
    const b = signals('rep_b');
    await Promise.all([a.whenListening(), b.whenListening()]);
    const seenByA: StoreChange[] = [];
    a.subscribe((c) => seenByA.push(c));
    const atB = nextChange(b);
    await a.publish({ kind: 'approval', approvalId: 'apr_1', sessionId: 'ses_1' });
    expect(await atB).toEqual({ kind: 'approval', approvalId: 'apr_1', sessionId: 'ses_1', origin: 'rep_a' });
    // A round trip through the database after the publish: A's own echo has arrived by now and was dropped.
    const marker = nextChange(a, (c) => c.origin === 'rep_b');
    await b.publish({ kind: 'session', sessionId: 'ses_2' });
    await marker;
    expect(seenByA).toEqual([
      { kind: 'approval', approvalId: 'apr_1', sessionId: 'ses_1', origin: 'rep_a' },
      { kind: 'session', sessionId: 'ses_2', origin: 'rep_b' },
    ]);
  });

  it('drops a malformed notification on its channel (reported, never delivered)', async () => {
    const errors: unknown[] = [];
    const b = signals('rep_b', errors);
    await b.whenListening();
    const seen: StoreChange[] = [];
    b.subscribe((c) => seen.push(c));
    const after = nextChange(b);
    await admin(db.url, "SELECT pg_notify('epochgate_changes', $1)", ['{"kind":"session","sessionId":"ses 1","origin":"rep_x"}']);
    await admin(db.url, "SELECT pg_notify('epochgate_changes', $1)", ['{"kind":"session","sessionId":"ses_ok","origin":"rep_x"}']);
    expect(await after).toEqual({ kind: 'session', sessionId: 'ses_ok', origin: 'rep_x' });
    expect(seen).toEqual([{ kind: 'session', sessionId: 'ses_ok', origin: 'rep_x' }]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['ignored a malformed signal on epochgate_changes']);
  });

  it('reconnects after its listening connection is killed and receives what is published afterwards', async () => {
    let lost: () => void = () => {};
    const bLost = new Promise<void>((resolve) => (lost = resolve));
    const a = signals('rep_a');
    const b = new PgSignals({ connectionString: db.url, origin: 'rep_b', onError: () => lost(), maxBackoffMs: 200 }).start();
    open.push(b);
    await Promise.all([a.whenListening(), b.whenListening()]);
    const killed = await admin(
      db.url,
      'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
      [LISTENER_NAME],
    );
    expect(killed.rows).toHaveLength(2);
    // Wait on the event: each replica reports the loss, then listens again.
    await bLost;
    await Promise.all([a.whenListening(), b.whenListening()]);
    expect(b.listening).toBe(true);
    const atB = nextChange(b);
    await a.publish({ kind: 'session', sessionId: 'ses_after' });
    expect(await atB).toEqual({ kind: 'session', sessionId: 'ses_after', origin: 'rep_a' });
  });

  it('still tells its own listeners, and never rejects, when the database cannot be reached', async () => {
    const errors: unknown[] = [];
    const url = new URL(db.url);
    url.port = '1'; // nothing listens there
    const s = signals('rep_a', errors, url.toString());
    const seen = nextChange(s);
    await expect(s.publish({ kind: 'session', sessionId: 'ses_1' })).resolves.toBeUndefined();
    expect(await seen).toEqual({ kind: 'session', sessionId: 'ses_1', origin: 'rep_a' });
    expect(errors.length).toBeGreaterThan(0);
    expect(s.listening).toBe(false);
  });
});
