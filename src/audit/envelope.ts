import type { AuditEvent } from './types.js';

/** The gateway acting on its own (start-up recovery, sweeps, expiries, policy loads): SPEC §13 actor. */
export const SYSTEM_ACTOR: NonNullable<AuditEvent['actor']> = Object.freeze({ id: 'epochgate', type: 'system' });
