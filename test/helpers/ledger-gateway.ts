// The gateway the ledger tests run against (SPEC §10): a real SQLite file, a real upstream on port 0 whose
// every answer is unique, and rules for payments, a key-required transfer and a read-only search.
import { afterAll, beforeAll, expect } from 'vitest';
import { ADMIN_SECRET, AGENT_SECRET, defaultPolicy, startTestGateway, type TestGateway } from './gateway.js';
import { startUpstream, type TestUpstream, type UpstreamHandler } from './upstream.js';
import { bearer, postJson, type Reply } from './client.js';

export const CRED = { agent_id: 'billing-bot', client_secret: AGENT_SECRET };
export const ADMIN = bearer(ADMIN_SECRET);

export const EXTRA_RULES = `  - id: payments
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    paths: ["/payments/**", "/big"]
  - id: transfers-need-key
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/transfers"]
    idempotency: required
  - id: search-is-read-only
    effect: allow
    roles: [billing-agent]
    tools: [billing]
    methods: [POST]
    paths: ["/search"]
    side_effects: false
`;

/** Every answer is unique (a counter and a random part), so a replay cannot be mistaken for a new call. */
export const uniqueAnswer: UpstreamHandler = (req, res, body) => {
  const n = Math.random().toString(36).slice(2);
  if (req.url === '/api/big') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(Buffer.alloc(1024 * 1024 + 1, 97));
    return;
  }
  res.writeHead(req.url?.includes('fail') ? 500 : 201, { 'content-type': 'application/json', 'x-answer': n, 'x-request-id': 'tool-own-id' });
  res.end(JSON.stringify({ url: req.url, body, n }));
};

export interface LedgerGateway {
  readonly t: TestGateway;
  readonly upstream: TestUpstream;
  open(): Promise<{ id: string; token: string }>;
  resume(id: string): Promise<Reply>;
  post(token: string, path: string, body: unknown, headers?: Record<string, string>): Promise<Reply>;
  seenPaths(from: number): string[];
  /** The upstream holds every answer until release() (a call stays in flight at the tool); the tests put
   *  uniqueAnswer back with restore(). */
  holdAnswers(): { release: () => void; restore: () => void };
}

/** Starts the gateway and its upstream around the calling describe block; use the result inside tests. */
export function useLedgerGateway(taskPrefix: string): LedgerGateway {
  let upstream: TestUpstream | undefined;
  let t: TestGateway | undefined;
  let n = 0;
  beforeAll(async () => {
    upstream = await startUpstream(uniqueAnswer);
    t = await startTestGateway({ upstreamUrl: upstream.url, policy: defaultPolicy(EXTRA_RULES), toolTimeoutMs: 1500 });
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the ledger gateway is used before beforeAll ran');
    return value;
  };
  return {
    get t() {
      return started(t);
    },
    get upstream() {
      return started(upstream);
    },
    async open() {
      const res = await postJson(`${started(t).control}/v1/sessions`, { ...CRED, task_id: `${taskPrefix}-${++n}` });
      expect(res.status).toBe(201);
      return { id: res.json.session_id, token: res.json.token };
    },
    async resume(id) {
      const res = await postJson(`${started(t).control}/v1/sessions/${id}/resume`, CRED);
      expect(res.status).toBe(200);
      return res;
    },
    post: (token, path, body, headers = {}) => postJson(`${started(t).data}/tools/billing${path}`, body, { ...bearer(token), ...headers }),
    seenPaths: (from) => started(upstream).seen.slice(from).map((s) => `${s.method} ${s.url}`),
    holdAnswers() {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const tool = started(upstream);
      tool.handler = (req, res, body) => void held.then(() => uniqueAnswer(req, res, body));
      return { release, restore: () => (tool.handler = uniqueAnswer) };
    },
  };
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
