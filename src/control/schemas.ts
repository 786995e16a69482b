// Control-plane request bodies (SPEC §7): strict objects, unknown fields are invalid_request.
import { z } from 'zod';
import { SESSION_STATES } from '../store/types.js';

const agentId = z.string().min(1).max(200);
// Credentials are opaque here; agent-auth verifies them. Bounded so a huge body cannot be hashed forever.
const credentialFields = {
  agent_id: agentId,
  client_secret: z.string().min(1).max(4096).optional(),
  client_assertion: z.string().min(1).max(16_384).optional(),
};

/**
 * Free-form session metadata, stored as sent. A zod record skips a member named `__proto__`, so such an entry
 * would vanish without an error: it is refused instead. (Deeper values are stored as they are, that name too.)
 */
function metadataSchema() {
  return z
    .unknown()
    .refine((value) => value === null || typeof value !== 'object' || !Object.hasOwn(value, '__proto__'), { message: 'the key name __proto__ is reserved', path: ['__proto__'] })
    .pipe(z.record(z.string(), z.unknown()));
}

const printable = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

export const createSessionBody = z
  .object({
    ...credentialFields,
    task_id: z.string().min(1).max(200).regex(printable, 'must be printable ASCII').optional(),
    scope: z.array(z.string().min(1).max(64)).min(1).max(256).optional(),
    metadata: metadataSchema().optional(),
  })
  .strict();

export const credentialBody = z.object(credentialFields).strict();

export const resumeBody = z
  .object({ ...credentialFields, expected_epoch: z.number().int().positive().optional() })
  .strict();

export const emptyBody = z.object({}).strict();

export const reasonBody = z.object({ reason: z.string().min(1).max(500).optional() }).strict();

export const checkpointBody = z
  .object({ label: z.string().min(1).max(200).optional(), state: z.unknown().optional() })
  .strict();

export const sessionListQuery = z
  .object({
    state: z.enum(SESSION_STATES).optional(),
    agent_id: agentId.optional(),
    task_id: z.string().min(1).max(200).optional(),
  })
  .strict();
