// Every upstream failure is mapped to a catalogue code here and nowhere else (DESIGN rule 2), for both the
// streamed forward() and forwardBuffered().
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';

// Error codes from node:net/dns and undici (lib/core/errors.js); messages are never inspected.
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_INFO',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/**
 * An upstream failure before any response as the catalogue error the agent gets (SPEC §8/§12). Unknown
 * failures are returned unchanged: they are bugs (internal_error), not tool outages.
 */
export function mapUpstreamError(err: unknown): unknown {
  if (isGatewayError(err)) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  if (TIMEOUT_CODES.has(code)) return new GatewayError('upstream_timeout', { cause: err });
  // HPE_*: llhttp could not parse the upstream's answer; to the agent that is a broken tool (502).
  if (UNREACHABLE_CODES.has(code) || code.startsWith('HPE_')) {
    return new GatewayError('upstream_unreachable', { cause: err });
  }
  return err;
}

/** An abort reason as an Error: undici's controller.abort() wants one, and a signal's reason may be anything. */
export function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error('forward aborted');
}
