// One webhook POST (SPEC §18). Redirects are not followed (a 3xx is an answer like any other non-2xx), the
// response body is drained to a small limit and dropped (a receiver cannot make the gateway buffer much),
// and the whole attempt is bounded by a timeout. Errors are reported by code only: an undici message may
// quote the URL, and URLs may carry the receiver's own secret.
import { Agent, request } from 'undici';

export interface SendResult {
  /** HTTP status, or null when there was no answer. */
  readonly status: number | null;
  /** Why there was no answer (an error code), or null. */
  readonly error: string | null;
}

const DRAIN_LIMIT = 64 * 1024;

export function webhookAgent(timeoutMs: number): Agent {
  return new Agent({
    connections: 8,
    keepAliveTimeout: 4_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: timeoutMs },
  });
}

export async function postWebhook(
  agent: Agent,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  signal: AbortSignal,
): Promise<SendResult> {
  try {
    const response = await request(url, { method: 'POST', headers, body, dispatcher: agent, signal });
    try {
      await response.body.dump({ limit: DRAIN_LIMIT, signal });
    } catch {
      // The status is what counts; a body that breaks off does not change it.
    }
    return { status: response.statusCode, error: null };
  } catch (err) {
    return { status: null, error: errorCode(err, signal) };
  }
}

function errorCode(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return signal.reason instanceof Error && signal.reason.name === 'TimeoutError' ? 'timeout' : 'aborted';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code)) return code;
  // undici's parser error has no code: an answer that is not HTTP/1.1.
  return (err as { name?: unknown }).name === 'HTTPParserError' ? 'invalid_response' : 'request_failed';
}
