// The command table of `epochgate` (SPEC §15). Each command is (args, io) → exit code.
import type { CliIo } from './io.js';
import { runServe } from './serve.js';
import { runKeysGenerate } from './keys-generate.js';
import { runSecretNew } from './secret-new.js';
import { runAuditVerify } from './audit-verify.js';
import { runPolicyCommand } from './policy.js';
import { runApprovalsCommand } from './approvals.js';
import { runSessionsCommand } from './sessions.js';
import { runRun } from './run.js';
import { runToken } from './token.js';

export type Command = (args: string[], io: CliIo) => Promise<number>;

/** Keyed by the command words, longest first where two share a prefix. */
export const COMMANDS: ReadonlyMap<string, { run: Command; summary: string }> = new Map([
  ['serve', { run: runServe, summary: 'run the gateway' }],
  ['policy', { run: runPolicyCommand, summary: 'check, test or explain the policy directory' }],
  ['keys generate', { run: runKeysGenerate, summary: 'add a new token signing key to the key set' }],
  ['secret new', { run: runSecretNew, summary: 'print a new secret and its sha256 line for a policy file' }],
  ['audit verify', { run: runAuditVerify, summary: 'verify the hash chains of audit files' }],
  ['approvals', { run: runApprovalsCommand, summary: 'list, show, approve or deny approvals (control-plane URL, person token)' }],
  ['sessions', { run: runSessionsCommand, summary: 'list, show or revoke sessions of a running gateway (admin)' }],
  ['run', { run: runRun, summary: 'run an unmodified agent with a session token kept fresh (create or resume, restart)' }],
  ['token', { run: runToken, summary: 'print the Authorization header from the token file (a headers helper)' }],
]);
