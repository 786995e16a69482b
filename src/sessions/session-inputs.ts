// What an adapter hands the session operations (SPEC §7 request members, already validated by the adapter).
import type { AgentCredentialInput } from './agent-auth.js';

export interface CreateSessionInput extends AgentCredentialInput {
  readonly task_id?: string | undefined;
  readonly scope?: readonly string[] | undefined;
  readonly metadata?: Record<string, unknown> | undefined;
}

export interface ResumeInput extends AgentCredentialInput {
  readonly expected_epoch?: number | undefined;
}

export interface CheckpointInput {
  readonly label?: string | undefined;
  readonly state?: unknown;
}
