// Names that are also members of every JavaScript object (`__proto__`, `constructor`, `toString`), sent where
// the gateway keys something by a name it was given: a tool in the path, a response header recorded in the
// ledger. Each is an ordinary name: an unknown tool is 404, and a tool's headers so named are relayed and
// replayed from the ledger exactly like any other. (Config and policy keys: unit/config-load, unit/policy-load;
// MCP methods: unit/mcp-forward; console form fields and list filters: console-and-keys, repeated-query.)
import { describe, expect, it } from 'vitest';
import { call, bearer } from '../helpers/client.js';
import { uniqueAnswer, useLedgerGateway } from '../helpers/ledger-gateway.js';

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
