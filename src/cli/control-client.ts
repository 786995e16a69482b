// HTTP client for CLI commands that talk to a running gateway's control plane (SPEC §15: `sessions …`,
// `approvals …`). Shared: target resolution (--url / EPOCHGATE_URL, --token / EPOCHGATE_TOKEN), one
// request primitive, and the problem+json → message mapping. The bearer secret goes only into the
// Authorization header; it is never printed, and never sent anywhere else (undici's request() does
// not follow redirects, so it cannot be replayed to another host).
import { request } from 'undici';
import { EXIT_FAILED, type CliIo } from './io.js';

export const DEFAULT_CONTROL_URL = 'http://127.0.0.1:8081';
const TIMEOUT_MS = 30_000;

/** parseArgs options every control-plane command accepts. */
export const CONTROL_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CONTROL_OPTIONS_HELP = `  --url URL      control-plane URL (default: EPOCHGATE_URL, else ${DEFAULT_CONTROL_URL})
  --token SECRET a person's secret (default: EPOCHGATE_TOKEN; prefer the variable: flags show up in ps)
  --json         print the JSON response instead of a table
  -h, --help     show this help
`;

export interface ControlTarget {
  readonly url: string;
  readonly token: string;
}

/** The target, or a usage message (exit 2) when no token is given or the URL is not http(s). */
export function controlTarget(values: { url?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv = process.env): ControlTarget | string {
  const url = values.url ?? env.EPOCHGATE_URL ?? DEFAULT_CONTROL_URL;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) return `--url must be an http(s) URL`;
  const token = values.token ?? env.EPOCHGATE_TOKEN;
  if (!token) return 'no token: pass --token or set EPOCHGATE_TOKEN (a person secret; listing and revoking sessions needs the admin role)';
  return { url: url.replace(/\/+$/, ''), token };
}

export interface ControlRequestOptions {
  readonly url: string;
  /** Bearer credential (a person's secret or a session token); absent for agent-credential routes. */
  readonly token?: string;
  readonly method: 'GET' | 'POST';
  /** Path below the control-plane URL, starting with "/", already percent-encoded where needed. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
}

export type ControlResponse =
  | { readonly ok: true; readonly status: number; readonly body: unknown }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly detail: string; readonly body: unknown };

/** A transport failure (refused, reset, timeout): no HTTP answer at all. */
export class ControlUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly code: string,
  ) {
    super(`cannot reach the control plane at ${url} (${code})`);
    this.name = 'ControlUnreachableError';
  }
}

export async function controlRequest(options: ControlRequestOptions): Promise<ControlResponse> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) query.set(key, value);
  const target = `${options.url}${options.path}${query.size > 0 ? `?${query}` : ''}`;
  let res;
  try {
    res = await request(target, {
      method: options.method,
      headers: {
        ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
        accept: 'application/json',
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : null,
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
  } catch (err) {
    throw new ControlUnreachableError(options.url, (err as NodeJS.ErrnoException).code ?? (err as Error).name);
  }
  const text = await res.body.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode, body };
  // SPEC §12: every error is problem+json with a stable code; anything else is reported by status.
  const problem = (body ?? {}) as { code?: unknown; detail?: unknown; title?: unknown };
  const code = typeof problem.code === 'string' ? problem.code : `http_${res.statusCode}`;
  const detail = typeof problem.detail === 'string' ? problem.detail : typeof problem.title === 'string' ? problem.title : '';
  return { ok: false, status: res.statusCode, code, detail, body };
}

/** Runs one request for a command: prints a failure (never the token) and maps it to exit 1. */
export async function controlCall(command: string, io: CliIo, options: ControlRequestOptions): Promise<ControlResponse | number> {
  let res: ControlResponse;
  try {
    res = await controlRequest(options);
  } catch (err) {
    if (!(err instanceof ControlUnreachableError)) throw err;
    io.stderr(`epochgate ${command}: ${err.message}\n`);
    return EXIT_FAILED;
  }
  if (!res.ok) {
    io.stderr(`epochgate ${command}: ${res.status} ${res.code}${res.detail ? `: ${res.detail}` : ''}\n`);
    return EXIT_FAILED;
  }
  return res;
}

/** Plain-text table: a header row and left-aligned columns, two spaces apart. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ');
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}
