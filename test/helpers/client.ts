// Small HTTP helpers over undici's fetch-free request API, so tests see raw statuses and headers.
import { request } from 'undici';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface CallInit {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Aborts the request (an agent worker that dies mid-call). */
  signal?: AbortSignal;
}

export async function call(url: string, init: CallInit = {}): Promise<Reply> {
  const res = await request(url, {
    method: (init.method ?? 'GET') as 'GET',
    headers: init.headers ?? {},
    body: init.body ?? null,
    ...(init.signal ? { signal: init.signal } : {}),
  });
  const text = await res.body.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return call(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
