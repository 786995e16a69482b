// Driving the approver console over plain HTTP (no browser): sign in, keep the cookie, read the CSRF token
// out of a page, post forms.
import { expect } from 'vitest';
import { call, type Reply } from './client.js';

export interface ConsoleClient {
  readonly cookie: string;
  get(path: string): Promise<Reply>;
  /** Posts a form; `csrf: true` adds the token read from `from` (a page path). */
  post(path: string, fields: Record<string, string>): Promise<Reply>;
  csrf(fromPath?: string): Promise<string>;
}

/** The value of `name` in Set-Cookie headers, or undefined. */
export function cookieFrom(reply: Reply, name: string): string | undefined {
  const raw = reply.headers['set-cookie'];
  const all = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const line = all.find((c) => c.startsWith(`${name}=`));
  return line === undefined ? undefined : line.slice(name.length + 1).split(';', 1)[0];
}

export function setCookieLine(reply: Reply, name: string): string | undefined {
  const raw = reply.headers['set-cookie'];
  const all = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return all.find((c) => c.startsWith(`${name}=`));
}

export const csrfIn = (html: string): string => {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF field in the page');
  return match[1]!;
};

export const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

export function postForm(url: string, fields: Record<string, string>, cookie: string): Promise<Reply> {
  return call(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: form(fields) });
}

/** Signs in through the form (GET for the pre-sign-in cookie and token, then POST). Returns the raw reply too. */
export async function signInReply(control: string, person: string, secret: string): Promise<Reply> {
  const page = await call(`${control}/console/sign-in`);
  expect(page.status).toBe(200);
  const key = cookieFrom(page, 'epochgate_console_signin')!;
  return postForm(`${control}/console/sign-in`, { csrf: csrfIn(page.text), person, secret }, `epochgate_console_signin=${key}`);
}

export async function signIn(control: string, person: string, secret: string): Promise<ConsoleClient> {
  const reply = await signInReply(control, person, secret);
  expect(reply.status).toBe(303);
  const value = cookieFrom(reply, 'epochgate_console');
  if (value === undefined) throw new Error('no session cookie after sign-in');
  const cookie = `epochgate_console=${value}`;
  const client: ConsoleClient = {
    cookie,
    get: (path) => call(`${control}${path}`, { headers: { cookie } }),
    post: (path, fields) => postForm(`${control}${path}`, fields, cookie),
    csrf: async (fromPath = '/console/') => csrfIn((await client.get(fromPath)).text),
  };
  return client;
}
