// The HTTP side of `epochgate approvals`: one control-plane request with a person's bearer secret. Errors come
// back as problem+json (SPEC §12); a transport failure is reported without the token.

export interface ControlTarget {
  /** Control-plane base URL, e.g. http://127.0.0.1:8081 */
  readonly url: string;
  readonly token: string;
}

export type ControlAnswer =
  | { readonly ok: true; readonly status: number; readonly body: unknown }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly detail: string; readonly body: unknown };

const TIMEOUT_MS = 30_000;

export async function controlRequest(target: ControlTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<ControlAnswer> {
  const url = new URL(path, target.url.endsWith('/') ? target.url : `${target.url}/`);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    return { ok: false, status: 0, code: 'unreachable', detail: `cannot reach ${url.origin}: ${cause}`, body: null };
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (res.ok) return { ok: true, status: res.status, body: parsed };
  const problem = (parsed ?? {}) as { code?: unknown; detail?: unknown };
  return {
    ok: false,
    status: res.status,
    code: typeof problem.code === 'string' ? problem.code : `http_${res.status}`,
    detail: typeof problem.detail === 'string' ? problem.detail : res.statusText,
    body: parsed,
  };
}
