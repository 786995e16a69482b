import { randomBase64urlPooled } from './random-pool.js';

/** Prefixed URL-safe random id. 18 bytes = 144 bits (SPEC §5 asks ≥ 128 for session ids). */
export function newId(prefix: string, bytes = 18): string {
  return `${prefix}_${randomBase64urlPooled(bytes)}`;
}

export const newSessionId = (): string => newId('ses');
export const newRequestId = (): string => newId('req', 12);
export const newTokenId = (): string => newId('jti', 16);
export const newEventId = (): string => newId('evt', 12);
export const newCheckpointId = (): string => newId('chk', 12);
export const newTaskId = (): string => newId('task', 12);
export const newReplicaId = (): string => newId('rep', 12);
