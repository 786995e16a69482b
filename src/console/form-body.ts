// Console form posts (application/x-www-form-urlencoded), read with the shared body reader and validated
// strictly with zod: unknown or repeated fields are refused, so nothing unexpected reaches a domain call.
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { GatewayError } from '../errors/gateway-error.js';
import { singleValued } from '../http/query-params.js';
import { readBody } from '../http/read-body.js';

/** Forms hold a comment or a reason at most: 64 KiB is plenty. */
export const MAX_FORM_BYTES = 64 * 1024;

export async function parseForm<S extends z.ZodType>(req: IncomingMessage, schema: S): Promise<z.infer<S>> {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  const raw = await readBody(req, MAX_FORM_BYTES);
  if (raw !== null && type !== 'application/x-www-form-urlencoded') {
    throw new GatewayError('invalid_request', { detail: 'Expected a form (application/x-www-form-urlencoded)' });
  }
  const fields = singleValued(new URLSearchParams(raw === null ? '' : raw.toString('utf8')));
  const result = schema.safeParse(fields);
  if (result.success) return result.data;
  // Field names only: a value may be a secret (the sign-in form).
  const names = [...new Set(result.error.issues.map((issue) => issue.path.map(String).join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : 'form')))];
  throw new GatewayError('invalid_request', { detail: `Invalid form field(s): ${names.join(', ')}` });
}
