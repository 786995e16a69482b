// Raw HTTP/1.1 over node:net for tests that need control of the framing (partial bodies, bad chunking,
// half-closes, slow headers, floods). Every wait has a deadline; nothing sleeps.
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  /** undefined when the connection closed (or the deadline passed) before a status line arrived. */
  readonly status: number | undefined;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The server closed (or reset) the connection. */
  readonly closed: boolean;
  /** The whole response arrived (head, and the body by Content-Length or the chunked terminator). */
  readonly complete: boolean;
  readonly json: any;
}

export type Ending = 'keep' | 'half-close' | 'destroy';

export interface RawOptions {
  /** After the last part: keep the socket open, half-close it (FIN), or destroy it (RST-ish). */
  readonly ending?: Ending;
  /** Give up waiting for the answer after this long (default 5 s). */
  readonly deadlineMs?: number;
}

/** Parses "host:port" out of an http:// URL. */
export function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

export function openSocket(url: string): Promise<Socket> {
  const { host, port } = hostPort(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Sends `parts` in order on a fresh connection and collects one response (or the close). */
export async function rawExchange(url: string, parts: readonly (string | Buffer)[], options: RawOptions = {}): Promise<RawResponse> {
  const socket = await openSocket(url);
  const received: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => {});
  const closedP = new Promise<void>((resolve) => socket.once('close', () => {
    closed = true;
    resolve();
  }));
  for (const part of parts) {
    if (socket.destroyed || closed) break;
    // A server that stopped reading never drains the write: bounded, then the answer is read anyway.
    await Promise.race([
      new Promise<void>((resolve) => socket.write(part, () => resolve())),
      closedP,
      new Promise<void>((resolve) => setTimeout(resolve, options.deadlineMs ?? 5_000).unref()),
    ]);
  }
  if (options.ending === 'destroy') socket.destroy();
  else if (options.ending === 'half-close') socket.end();
  await waitUntil(() => closed || complete(Buffer.concat(received)), options.deadlineMs ?? 5_000, false);
  if (!closed) socket.destroy();
  await closedP;
  return parseResponse(Buffer.concat(received), closed);
}

/** Polls `check` until it is true or the deadline passes; throws on the deadline unless `soft`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, deadlineMs: number, hard = true): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) {
      if (hard) throw new Error(`condition not met within ${deadlineMs} ms`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function splitHead(raw: Buffer): { head: string; rest: Buffer } | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  return { head: raw.subarray(0, end).toString('latin1'), rest: raw.subarray(end + 4) };
}

function headersOf(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** A whole response is in: its head, and its body by Content-Length or the chunked terminator. */
function complete(raw: Buffer): boolean {
  const split = splitHead(raw);
  if (!split) return false;
  const headers = headersOf(split.head);
  if (headers['content-length'] !== undefined) return split.rest.length >= Number(headers['content-length']);
  if (headers['transfer-encoding']?.includes('chunked')) return split.rest.includes('0\r\n\r\n');
  return false;
}

function dechunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol === -1) break;
    const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

export function parseResponse(raw: Buffer, closed: boolean): RawResponse {
  const split = splitHead(raw);
  if (!split) return { status: undefined, headers: {}, body: '', closed, complete: false, json: undefined };
  const status = Number(split.head.split(' ')[1]);
  const headers = headersOf(split.head);
  const bodyBuf = headers['transfer-encoding']?.includes('chunked') ? dechunk(split.rest) : split.rest;
  const body = bodyBuf.toString('utf8');
  let json: any;
  try {
    json = body ? JSON.parse(body) : undefined;
  } catch {
    json = undefined;
  }
  return { status, headers, body, closed, complete: complete(raw), json };
}

/** One request head. `headers` are written as given (duplicates allowed), then Host if missing. */
export function head(method: string, target: string, headers: readonly [string, string][] = []): string {
  const lines = [`${method} ${target} HTTP/1.1`];
  if (!headers.some(([name]) => name.toLowerCase() === 'host')) lines.push('Host: 127.0.0.1');
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** One chunk of chunked framing. */
export const chunk = (data: string | Buffer): string =>
  `${Buffer.byteLength(data).toString(16)}\r\n${typeof data === 'string' ? data : data.toString('latin1')}\r\n`;
export const LAST_CHUNK = '0\r\n\r\n';
