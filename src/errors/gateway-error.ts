import { CATALOGUE, type ErrorCode } from './catalogue.js';

export interface GatewayErrorOptions {
  /** Human-readable detail. Must never contain a token, secret or credential. */
  detail?: string;
  /** Code-specific members added to the problem body (e.g. approval_id, current_epoch). */
  fields?: Record<string, unknown>;
  /** The request authenticated (or tried to) with a bearer credential: 401/insufficient_scope get a challenge. */
  bearer?: boolean;
  /** Report with the catalogue's conflictStatus (control-plane resume/token on a session in the wrong state). */
  conflict?: boolean;
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** Every client-visible failure. Branch on `code`, never on the message. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fields: Record<string, unknown>;
  readonly bearer: boolean;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, options: GatewayErrorOptions = {}) {
    super(options.detail ?? CATALOGUE[code].title, options.cause === undefined ? undefined : { cause: options.cause });
    const spec = CATALOGUE[code];
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.conflict && 'conflictStatus' in spec ? spec.conflictStatus : spec.status;
    this.fields = options.fields ?? {};
    this.bearer = options.bearer ?? false;
    this.retryAfterSeconds = options.retryAfterSeconds ?? ('retryAfter' in spec ? spec.retryAfter : undefined);
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}
