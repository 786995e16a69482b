import { CATALOGUE } from './catalogue.js';
import { GatewayError, isGatewayError } from './gateway-error.js';

export interface ProblemReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  code: GatewayError['code'];
}

/** Any thrown value → the error we report. Unknown throwables are bugs: internal_error, detail withheld. */
export function asGatewayError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  return new GatewayError('internal_error', { cause: err });
}

/** RFC 9457 problem+json, with the RFC 6750 §3 challenge where a bearer credential was involved. */
export function problemReply(err: GatewayError, requestId: string): ProblemReply {
  const spec = CATALOGUE[err.code];
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  const challenge = bearerChallenge(err);
  if (challenge) headers['www-authenticate'] = challenge;
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  const body = {
    ...err.fields,
    type: `urn:epochgate:error:${err.code}`,
    title: spec.title,
    status: err.status,
    code: err.code,
    detail: err.code === 'internal_error' ? spec.title : err.message,
    request_id: requestId,
  };
  return { status: err.status, headers, body: JSON.stringify(body), code: err.code };
}

function bearerChallenge(err: GatewayError): string | undefined {
  if (err.code === 'token_missing') return 'Bearer realm="epochgate"'; // RFC 6750 §3.1: no error code without credentials
  if (!err.bearer) return undefined;
  const spec = CATALOGUE[err.code];
  if (!('bearerError' in spec)) return undefined;
  if (spec.bearerError === 'invalid_token' && err.status !== 401) return undefined;
  return `Bearer realm="epochgate", error="${spec.bearerError}", error_description="${err.code}"`;
}
