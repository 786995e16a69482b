// Names that are also members of every JavaScript object (`__proto__`, `constructor`, `toString`), sent where
// the gateway keys something by a name it was given: a tool in the path, a response header recorded in the
// ledger, a session's metadata. Each is an ordinary name: an unknown tool is 404, a tool's headers so named
// are relayed and replayed from the ledger exactly like any other, and metadata keeps every member as sent,
// except a top-level __proto__, which a record would drop without a word and is therefore refused (400). (Config and policy keys: unit/config-load, unit/policy-load;
// MCP methods: unit/mcp-forward; console form fields and list filters: console-and-keys, repeated-query.)
import { describe, expect, it } from 'vitest';
import { call, bearer } from '../helpers/client.js';
import { ADMIN, CRED, uniqueAnswer, useLedgerGateway } from '../helpers/ledger-gateway.js';

const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
/** Header names arrive lower-cased: these two are the object members among them. */
const HEADER_NAMES = ['__proto__', 'constructor'];

describe('object member names', () => {
  const g = useLedgerGateway('proto-names');

  it.each(NAMES)('a tool named %s in the path is 404 route_not_found', async (name) => {
    const { token } = await g.open();
    const reply = await call(`${g.t.data}/tools/${name}/x`, { headers: bearer(token) });
    expect([reply.status, reply.json.code]).toEqual([404, 'route_not_found']);
  });

  it('refuses session metadata with a top-level __proto__ member, and stores every other member as sent', async () => {
    const sessionsOfTask = async () => (await call(`${g.t.control}/v1/sessions?task_id=proto-body`, { headers: ADMIN })).json.sessions as unknown[];
    const refusedBody = `{"agent_id":"billing-bot","client_secret":${JSON.stringify(CRED.client_secret)},"task_id":"proto-body","metadata":{"__proto__":{"a":1}}}`;
    const refused = await call(`${g.t.control}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: refusedBody });
    expect([refused.status, refused.json.code, refused.json.errors]).toEqual([400, 'invalid_request', [{ path: 'metadata.__proto__', message: 'the key name __proto__ is reserved' }]]);
    expect([refused.text.includes(CRED.client_secret), await sessionsOfTask()]).toEqual([false, []]);

    const keptBody = refusedBody.replace('{"__proto__":{"a":1}}', '{"constructor":"c","deep":[{"__proto__":2}]}');
    const created = await call(`${g.t.control}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: keptBody });
    const stored = await call(`${g.t.control}/v1/sessions/${created.json.session_id}`, { headers: ADMIN });
    expect([created.status, JSON.stringify(stored.json.metadata), (await sessionsOfTask()).length]).toEqual([201, '{"constructor":"c","deep":[{"__proto__":2}]}', 1]);

    // A checkpoint's state is the agent's own data: stored and given back on resume as sent, that name included.
    const checkpoint = await call(`${g.t.control}/v1/sessions/${created.json.session_id}/checkpoints`, {
      method: 'POST', headers: { ...bearer(created.json.token), 'content-type': 'application/json' }, body: '{"label":"l","state":{"__proto__":{"x":1}}}',
    });
    const resumed = await g.resume(created.json.session_id);
    expect([checkpoint.status, JSON.stringify(resumed.json.checkpoint.state)]).toEqual([201, '{"__proto__":{"x":1}}']);
  });

  it('relays response headers with those names, and replays them from the ledger after a resume', async () => {
    g.upstream.handler = (req, res, body) => {
      for (const name of HEADER_NAMES) res.setHeader(name, `v-${name}`);
      uniqueAnswer(req, res, body);
    };
    try {
      const { id, token } = await g.open();
      const seen = g.upstream.seen.length;
      const first = await g.post(token, '/payments/p1', { amount: 1 }, { 'idempotency-key': 'proto-1' });
      const resumed = await g.resume(id);
      const replay = await g.post(resumed.json.token, '/payments/p1', { amount: 1 }, { 'idempotency-key': 'proto-1' });
      const named = (headers: Record<string, unknown>) => HEADER_NAMES.map((n) => (Object.hasOwn(headers, n) ? headers[n] : null));
      expect(first.status).toBe(201);
      expect(named(first.headers)).toEqual(HEADER_NAMES.map((n) => `v-${n}`));
      expect([replay.status, replay.headers['idempotent-replayed'], replay.text]).toEqual([first.status, 'true', first.text]);
      expect(named(replay.headers)).toEqual(HEADER_NAMES.map((n) => `v-${n}`));
      expect(g.seenPaths(seen)).toEqual(['POST /api/payments/p1']);
    } finally {
      g.upstream.handler = uniqueAnswer;
    }
  });
});
