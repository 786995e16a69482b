// Console request handling: route, run the handler, send the page (or redirect, asset, event stream), and
// audit state-changing actions exactly like the control plane does (one record per action, also when it
// fails, written before the response). DESIGN rule 15: nothing here throws out of the request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CATALOGUE, type ErrorCode } from '../errors/catalogue.js';
import { actionRecord } from '../audit/audit-draft.js';
import { GatewayError } from '../errors/gateway-error.js';
import { asGatewayError } from '../errors/problem.js';
import { ownRequestErrors, bodyLeftUnread } from '../http/read-body.js';
import { ownResponseErrors } from '../http/reply.js';
import { newRequestId } from '../util/ids.js';
import type { ConsoleContext, ConsoleDeps, ConsoleReply } from './console-deps.js';
import { CONSOLE_ROUTES } from './console-routes.js';
import { errorPage } from './layout.js';
import { foreignOriginRefusal } from './origin-check.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** Paths the console answers (everything else on the control plane is the API). */
export const isConsolePath = (url: string | undefined): boolean => /^\/console(?:[/?]|$)/.test(url ?? '');

export async function handleConsole(deps: ConsoleDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  ownRequestErrors(req);
  ownResponseErrors(res);
  const ctx: ConsoleContext = { requestId: newRequestId(), req, res, startedAt: deps.clock.now(), audit: { event: null, extra: {} }, signedIn: null };
  try {
    // While the audit stream cannot be written, no action is taken (the same rule as the control plane).
    if (!deps.audit.isAvailable()) {
      deps.audit.countRefused();
      send(ctx, failurePage(ctx, new GatewayError('audit_unavailable')));
      return;
    }
    send(ctx, await run(deps, ctx));
  } catch (err) {
    deps.metrics.internalErrors.inc();
    deps.logger.error({ err, request_id: ctx.requestId }, 'console request failed outside the handler');
    send(ctx, failurePage(ctx, new GatewayError('internal_error')));
  }
}

async function run(deps: ConsoleDeps, ctx: ConsoleContext): Promise<ConsoleReply> {
  const path = new URL(ctx.req.url ?? '/', 'http://x').pathname;
  // Browsers resolve dot segments before sending; a target the URL parser would rewrite (`..`, `%2e`, `\`)
  // is refused like a malformed data-plane path, so the route run and the path audited are the ones sent.
  const rewritten = path !== (ctx.req.url ?? '/').split('?', 1)[0];
  let reply: ConsoleReply;
  let failure: GatewayError | undefined;
  try {
    const refused = foreignOriginRefusal(ctx.req, deps.fixedOrigin);
    const found = findRoute(ctx.req.method ?? 'GET', path);
    // The refusal is audited as the action it was meant to be, like a CSRF refusal.
    ctx.audit.event = found?.route.event ?? null;
    if (refused !== null) throw refused;
    if (rewritten) throw new GatewayError('bad_request', { detail: 'The console path has dot segments or characters no console page uses' });
    if (found === undefined) throw new GatewayError('route_not_found', { detail: 'No such console page' });
    reply = await found.route.handle(deps, found.params, ctx);
    failure = ctx.failure;
  } catch (err) {
    failure = asGatewayError(err);
    if (failure.code === 'store_unavailable') deps.metrics.storeErrors.inc();
    if (failure.code === 'internal_error') {
      deps.metrics.internalErrors.inc();
      deps.logger.error({ err, request_id: ctx.requestId }, 'console request failed');
    }
    reply = failurePage(ctx, failure);
  }
  try {
    settle(deps, ctx, path, failure?.code ?? 'ok', replyStatus(reply, failure));
  } catch (err) {
    reply = failurePage(ctx, asGatewayError(err));
  }
  return reply;
}

function replyStatus(reply: ConsoleReply, failure: GatewayError | undefined): number {
  if (reply.kind === 'page') return reply.status;
  if (reply.kind === 'redirect') return 303;
  return failure?.status ?? 200;
}

/** The audit record of an action (reads write none), synchronously, before the response. */
function settle(deps: ConsoleDeps, ctx: ConsoleContext, path: string, status: 'ok' | ErrorCode, httpStatus: number): void {
  const now = deps.clock.now();
  const record = actionRecord(ctx.audit, {
    time: now, requestId: ctx.requestId, status, policyRevision: deps.policy.current().revision, method: ctx.req.method ?? 'GET',
    path, httpStatus, durationMs: now - ctx.startedAt, srcIp: ctx.req.socket.remoteAddress ?? '',
  });
  if (record) deps.audit.write(record);
}

function failurePage(ctx: ConsoleContext, error: GatewayError): ConsoleReply {
  const detail = error.code === 'internal_error' ? 'Something went wrong; the request was not carried out.' : error.message;
  const page = { kind: 'page', status: error.status, body: errorPage(ctx.signedIn, error.status, titleOf(error.code), detail) } as const;
  // 503s tell the browser (and scripts) when to try again, as the API's problem replies do.
  return error.retryAfterSeconds === undefined ? page : { ...page, retryAfterSeconds: error.retryAfterSeconds };
}

const titleOf = (code: ErrorCode): string => CATALOGUE[code].title;

function send(ctx: ConsoleContext, reply: ConsoleReply): void {
  const { req, res } = ctx;
  if (reply.kind === 'streamed' || res.writableEnded || res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  try {
    const headers: Record<string, string | string[]> = { ...SECURITY_HEADERS, 'x-request-id': ctx.requestId };
    if (bodyLeftUnread(req)) headers.connection = 'close';
    if (reply.kind !== 'asset' && reply.cookies) headers['set-cookie'] = [...reply.cookies];
    if (reply.kind === 'page' && reply.retryAfterSeconds !== undefined) headers['retry-after'] = String(reply.retryAfterSeconds);
    if (reply.kind === 'redirect') {
      res.writeHead(303, { ...headers, location: reply.location, 'content-length': '0' });
      res.end();
    } else if (reply.kind === 'asset') {
      res.writeHead(200, { ...headers, 'content-type': reply.contentType });
      res.end(reply.body);
    } else {
      res.writeHead(reply.status, { ...headers, 'content-type': 'text/html; charset=utf-8' });
      res.end(reply.body.value);
    }
  } catch {
    res.destroy();
  }
}

function findRoute(method: string, path: string) {
  for (const route of CONSOLE_ROUTES) {
    const match = route.pattern.exec(path);
    if (match && route.method === method) return { route, params: match.slice(1) };
  }
  return undefined;
}
