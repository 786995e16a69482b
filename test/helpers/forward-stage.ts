// The forward stage as a unit (test/unit/stage-forward.test.ts): a real tool upstream and a front on port 0
// (node:http), whose handler builds the request context by hand and runs forwardStage on it, with a
// MemoryStore, a ManualClock, the tools' real undici pools, and a metric and a logger that only record.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { ToolConfig } from '../../src/config/types.js';
import { asGatewayError } from '../../src/errors/problem.js';
import { reserveCall } from '../../src/ledger/ledger-flow.js';
import { LedgerReservation } from '../../src/ledger/reservation.js';
import { LiveCall } from '../../src/live/live-call.js';
import type { McpMessage } from '../../src/mcp/classify.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { PipelineDeps } from '../../src/pipeline/deps.js';
import { forwardStage } from '../../src/pipeline/stage-forward.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import type { SessionRecord } from '../../src/store/types.js';
import { createDispatchers } from '../../src/upstream/dispatchers.js';
import { ManualClock } from '../../src/util/clock.js';
import { listen, send, type Reply } from './forward-front.js';

export const NOW = 1_800_000_000_000;

export const SESSION: SessionRecord = {
  sessionId: 'ses_1', taskId: 't', agentId: 'bot', state: 'active', stateReason: null, epoch: 2, scope: ['billing'], originalScope: ['billing'],
  createdAt: NOW, updatedAt: NOW, leaseExpiresAt: NOW + 240_000, resumes: 1, metadata: null,
};

export interface Setup {
  /** billing is an HTTP tool, docs an MCP tool (both on the same upstream), gone a closed port. */
  readonly tool?: 'billing' | 'docs' | 'gone';
  readonly message?: McpMessage['method'];
  readonly body?: string;
  readonly ledger?: boolean;
  readonly live?: boolean;
  /** Ends the live call before the stage runs. */
  readonly endBefore?: Error;
  /** Replaces parts of the request the stage reads headers from (the socket, parsed headers). */
  readonly req?: (req: IncomingMessage) => Partial<Pick<IncomingMessage, 'headers' | 'socket'>>;
  readonly headers?: Record<string, string>;
  /** The session as the fence stage read it (SESSION by default). */
  readonly session?: Partial<SessionRecord>;
}

export interface Run {
  readonly ctx: RequestContext;
  readonly error: unknown;
  readonly reply: Reply | Error;
}

type Pending = { setup: Setup; ledger: LedgerReservation | undefined; done: (run: Omit<Run, 'reply'>) => void };

export class StageHarness {
  readonly store = new MemoryStore();
  readonly clock = new ManualClock(NOW);
  readonly observed: number[] = [];
  readonly logged: unknown[][] = [];
  readonly unknowns: unknown[][] = [];
  readonly seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  /** The tool's behaviour; the default answers 200 {"ok":true}. */
  tool: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  /** The context of the request in flight, set when the front received it. */
  context!: Promise<RequestContext>;
  private contextReady!: (ctx: RequestContext) => void;
  private pending: Pending | undefined;
  port = 0;
  private deps!: PipelineDeps;
  private readonly tools = new Map<string, ToolConfig>();

  constructor(private readonly policy: PolicySnapshot) {}

  async start(cleanups: Array<() => unknown>): Promise<this> {
    await this.store.sessions.create(SESSION);
    const upstream = await listen(http.createServer((req, res) => this.upstream(req, res)));
    const closed = await listen(http.createServer());
    await cleanups.pop()!();
    for (const t of [tool('billing', 'http', upstream), tool('docs', 'mcp', upstream), tool('gone', 'http', closed)]) this.tools.set(t.name, t);
    const dispatchers = createDispatchers(this.tools);
    cleanups.push(() => dispatchers.destroy());
    this.deps = this.makeDeps(dispatchers);
    this.port = await listen(http.createServer((req, res) => void this.front(req, res)));
    return this;
  }

  /** One request through the front; `reply` is the client's view (an Error when its connection was cut). */
  async call(setup: Setup = {}): Promise<Run> {
    this.context = new Promise((resolve) => (this.contextReady = resolve));
    const ledger = setup.ledger ? await this.reserve(setup.tool ?? 'billing') : undefined;
    const done = new Promise<Omit<Run, 'reply'>>((resolve) => (this.pending = { setup, ledger, done: resolve }));
    const reply = await send(this.port, '/x', { method: 'POST', headers: setup.headers ?? {} }).catch((err: Error) => err);
    return { ...(await done), reply };
  }

  private upstream(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      this.tool(req, res);
    });
  }

  private async front(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { setup, ledger, done } = this.pending!;
    const ctx = this.contextOf(setup, req, res, ledger);
    this.contextReady(ctx);
    if (setup.endBefore) ctx.live!.end(setup.endBefore);
    const error = await forwardStage(this.deps, ctx).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (error !== undefined && !res.headersSent && !res.destroyed) {
      const e = asGatewayError(error);
      res.writeHead(e.status, { 'x-error-code': e.code }).end();
    }
    done({ ctx, error });
  }

  private contextOf(setup: Setup, req: IncomingMessage, res: ServerResponse, ledger: LedgerReservation | undefined): RequestContext {
    const name = setup.tool ?? 'billing';
    const mcp = name === 'docs';
    const ctx = {
      requestId: 'req_1',
      startedAt: NOW,
      req: { rawHeaders: req.rawHeaders, headers: req.headers, socket: req.socket, ...setup.req?.(req) },
      res,
      policy: this.policy,
      agent: this.policy.agents.get('bot'),
      route: { tool: this.tools.get(name), segments: mcp ? [] : ['a/b', 'c'], query: mcp ? '' : '?q=1' },
      session: { ...SESSION, ...setup.session },
      action: { method: 'POST', path: mcp ? '/' : '/a%2Fb/c', body: setup.body === undefined ? null : Buffer.from(setup.body) },
      ...(setup.message !== undefined && { mcpMessage: { method: setup.message, id: 1 } }),
      ...(ledger && { ledger }),
      auditExtra: {},
      sideEvents: [],
      finishers: [],
      beforeEnd: () => undefined,
    } as unknown as RequestContext & { live?: LiveCall };
    if (setup.live) ctx.live = new LiveCall('ses_1', 2, res, true, () => undefined);
    return ctx;
  }

  private async reserve(name: string): Promise<LedgerReservation> {
    const decided = await reserveCall(this.store.ledger, {
      sessionId: 'ses_1', epoch: 2, tool: name, idempotencyKey: null, fingerprint: 'f'.repeat(64),
      method: 'POST', path: '/a%2Fb/c', mcpTool: null, requestId: 'req_1', replicaId: 'rep_1', now: NOW,
    });
    return new LedgerReservation(this.store.ledger, this.clock, decided.entry, decided.occurrence, {
      onUnknown: (_entry, reason, status) => void this.unknowns.push([reason, status]),
      onError: (err) => void this.logged.push(['ledger', err]),
    });
  }

  private makeDeps(dispatchers: ReturnType<typeof createDispatchers>): PipelineDeps {
    return {
      store: this.store,
      clock: this.clock,
      dispatchers,
      metrics: { upstreamDuration: { observe: (v: number) => void this.observed.push(v) } },
      logger: { error: (...args: unknown[]) => void this.logged.push(args), warn: (...args: unknown[]) => void this.logged.push(args) },
    } as unknown as PipelineDeps;
  }
}

function tool(name: string, protocol: 'http' | 'mcp', port: number): ToolConfig {
  return {
    name, protocol, upstream: new URL(`http://127.0.0.1:${port}/api`), headers: { authorization: 'Bearer tool-key' },
    timeoutMs: 2000, maxBodyBytes: 1 << 20, forwardCookies: false, maxConnections: 4, streamIdleTimeoutMs: 300_000,
  };
}
