// A list filter given twice (`?state=pending&state=approved`): every list endpoint and the console's session
// filter refuse it with 400 invalid_request naming the parameter, instead of silently taking one of the
// values; a name that is not a filter's is not echoed; the same filters given once still work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/errors/catalogue.js';
import { ADMIN_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { bearer, call } from '../helpers/client.js';
import { signIn, type ConsoleClient } from '../helpers/console.js';
import { CONSOLE_CONFIG, consolePolicy } from '../helpers/console-fixtures.js';

let t: TestGateway;
let admin: ConsoleClient;

beforeAll(async () => {
  t = await startTestGateway({ upstreamUrl: 'http://127.0.0.1:9', policy: consolePolicy(), extraConfig: CONSOLE_CONFIG });
  admin = await signIn(t.control, 'sec-admin', ADMIN_SECRET);
});
afterAll(async () => {
  await t?.close();
});

const LISTS: [string, string, string][] = [
  ['/v1/sessions', 'state=active', 'state=revoked'],
  ['/v1/approvals', 'state=pending', 'state=approved'],
  ['/v1/notifications', 'state=pending', 'state=failed'],
  ['/v1/sessions', 'agent_id=billing-bot', 'agent_id=billing-bot'],
];

describe('control API list endpoints', () => {
  for (const [path, once, other] of LISTS) {
    it(`GET ${path}?${once}&${other} → 400 invalid_request naming the parameter; given once → 200`, async () => {
      const name = once.split('=')[0]!;
      const twice = await call(`${t.control}${path}?${once}&${other}`, { headers: bearer(ADMIN_SECRET) });
      expect([twice.status, twice.json.code, twice.json.errors]).toEqual([400, 'invalid_request', [{ path: name, message: 'given more than once' }]]);
      const single = await call(`${t.control}${path}?${once}`, { headers: bearer(ADMIN_SECRET) });
      expect(single.status).toBe(200);
    });
  }

  it('does not echo a repeated name that is not a filter', async () => {
    const reply = await call(`${t.control}/v1/sessions?%3Cb%3Ex=1&%3Cb%3Ex=2`, { headers: bearer(ADMIN_SECRET) });
    expect([reply.status, reply.json.code, reply.json.errors]).toEqual([400, 'invalid_request', [{ path: '(parameter)', message: 'given more than once' }]]);
    expect(reply.text.includes('<b>')).toBe(false);
  });
});

describe('console session filter', () => {
  it('refuses a repeated filter with the invalid_request page, and filters when it is given once', async () => {
    const twice = await admin.get('/console/sessions?state=active&state=revoked');
    expect([twice.status, twice.text.includes(`<h1>${CATALOGUE.invalid_request.title}</h1>`)]).toEqual([400, true]);
    const once = await admin.get('/console/sessions?state=active');
    expect(once.status).toBe(200);
  });
});
