// The agent process of `epochgate run` (SPEC §15): its environment, and one run of it with SIGINT/SIGTERM
// passed on. The environment is the launcher's own minus anything it set for an earlier run, so a nested
// or restarted agent never sees a stale token, tool URL or checkpoint.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { HeldSession } from './run-session.js';

export interface ChildFiles {
  readonly tokenFile: string;
  readonly checkpointFile: string | undefined;
}

const OURS = /^EPOCHGATE_(TOKEN|TOKEN_FILE|SESSION_ID|EPOCH|CONTROL_URL|CHECKPOINT_FILE|TOOL_URL_.*)$/;

/** `billing-v2` → `EPOCHGATE_TOOL_URL_BILLING_V2`; `.` is not valid in a variable name either. */
export function toolUrlVariable(tool: string): string {
  return `EPOCHGATE_TOOL_URL_${tool.toUpperCase().replace(/[-.]/g, '_')}`;
}

export function childEnvironment(base: NodeJS.ProcessEnv, session: HeldSession, files: ChildFiles, controlUrl: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) if (!OURS.test(key)) env[key] = value;
  env.EPOCHGATE_TOKEN = session.token;
  env.EPOCHGATE_TOKEN_FILE = files.tokenFile;
  env.EPOCHGATE_SESSION_ID = session.sessionId;
  env.EPOCHGATE_EPOCH = String(session.epoch);
  env.EPOCHGATE_CONTROL_URL = controlUrl;
  for (const [tool, url] of Object.entries(session.toolUrls)) env[toolUrlVariable(tool)] = url;
  if (files.checkpointFile !== undefined) env.EPOCHGATE_CHECKPOINT_FILE = files.checkpointFile;
  return env;
}

export interface ChildRun {
  /** CMD's exit code; 128 + the signal's number when a signal ended it (the shell's convention). */
  readonly code: number;
  /** A SIGINT or SIGTERM reached the launcher while CMD ran: the user wants it stopped, not restarted. */
  readonly interrupted: boolean;
}

export function runChild(command: readonly [string, ...string[]], env: NodeJS.ProcessEnv, onError: (message: string) => void): Promise<ChildRun> {
  return new Promise((resolve) => {
    let interrupted = false;
    let settled = false;
    const child = spawn(command[0], command.slice(1), { env, stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => {
      interrupted = true;
      child.kill(signal);
    };
    const onInt = () => forward('SIGINT');
    const onTerm = () => forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const done = (code: number) => {
      // A child that fails to spawn may report both 'error' and 'exit': the first one decides.
      if (settled) return;
      settled = true;
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve({ code, interrupted });
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      onError(`cannot start ${JSON.stringify(command[0])}: ${err.code ?? err.message}`);
      done(err.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => done(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
}
