import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { GatewayError } from '../errors/gateway-error.js';
import { readBody } from '../http/read-body.js';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../util/strict-json.js';

// SPEC §8: control-plane bodies are limited to 1 MiB (payload_too_large beyond).
export const MAX_CONTROL_BODY_BYTES = 1024 * 1024;

/** Reads, parses and strictly validates a control-plane JSON body. An empty body is `{}`. */
export async function parseJsonBody<S extends z.ZodType>(req: IncomingMessage, schema: S): Promise<z.infer<S>> {
  const raw = await readBody(req, MAX_CONTROL_BODY_BYTES);
  let value: unknown = {};
  if (raw !== null) {
    const text = raw.toString('utf8');
    // SPEC §8: checked before parsing, so nothing downstream (zod, canonical JSON) walks a deeper value.
    if (exceedsJsonDepth(text)) throw invalid([{ path: '', message: `body is nested deeper than ${MAX_JSON_DEPTH} levels` }]);
    try {
      value = JSON.parse(text);
    } catch {
      throw invalid([{ path: '', message: 'body is not valid JSON' }]);
    }
  }
  return validate(schema, value);
}

export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // Field paths only: zod messages never include the offending value, so no secret is echoed.
  const errors = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
  throw invalid(errors);
}

function invalid(errors: { path: string; message: string }[]): GatewayError {
  return new GatewayError('invalid_request', {
    detail: errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; '),
    fields: { errors },
  });
}
