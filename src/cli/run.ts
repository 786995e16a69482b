// `epochgate run` (SPEC §15 "Unmodified agents"): the launcher. It holds the agent credential, opens or
// resumes the session for a task, and runs the agent with a token it keeps fresh, so the agent itself
// never speaks the control API. The credential never reaches the agent: not in argv, output or env.
import { join } from 'node:path';
import { assertionFromCommand, secretFromEnv, type AgentCredential } from './agent-credential.js';
import { ControlUnreachableError } from './control-client.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { createPrivateDir, type PrivateDir } from './private-files.js';
import { RUN_HELP, parseRunArgs, type RunOptions } from './run-args.js';
import { childEnvironment, runChild, type ChildRun } from './run-child.js';
import { TOKEN_FILE, keepSession } from './run-keeper.js';
import { ControlRefusal, launcherSessions, type HeldSession, type LauncherSessions } from './run-session.js';

const CHECKPOINT_FILE = 'checkpoint.json';

interface Launch {
  readonly options: RunOptions;
  readonly sessions: LauncherSessions;
  readonly dir: PrivateDir;
  readonly env: NodeJS.ProcessEnv;
  readonly say: (message: string) => void;
}

export async function runRun(args: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseRunArgs(args, env);
  if (parsed.kind === 'help') {
    io.stdout(RUN_HELP);
    return EXIT_OK;
  }
  if (parsed.kind === 'usage') return usage(io, parsed.message);
  const { options } = parsed;
  const credential: AgentCredential | string =
    options.credential.kind === 'secret-env' ? secretFromEnv(options.credential.variable, env) : assertionFromCommand(options.credential.command, env);
  if (typeof credential === 'string') return usage(io, credential);
  const say = (message: string) => io.stderr(`epochgate run: ${message}\n`);
  const sessions = launcherSessions(options.controlUrl, options.agentId, credential);
  let session: HeldSession;
  try {
    session = await sessions.open(options.taskId, options.scope);
  } catch (err) {
    say(`cannot open a session for agent ${options.agentId}: ${describe(err)}`);
    return EXIT_FAILED;
  }
  say(`session ${session.sessionId} epoch ${session.epoch} (${session.resumed ? 'resumed' : 'created'})`);
  const dir = createPrivateDir();
  try {
    return await supervise({ options, sessions, dir, env, say }, session);
  } finally {
    dir.remove();
  }
}

/** Runs CMD, restarting it after a resume while --restart allows; returns CMD's last exit code. */
async function supervise(launch: Launch, first: HeldSession): Promise<number> {
  let session = first;
  for (let restarts = 0; ; restarts++) {
    const run = await runOnce(launch, session);
    if (run.code === 0) return closeSession(launch, session, run);
    if (run.interrupted || restarts >= launch.options.restarts) {
      launch.say(`command exited ${run.code}; session ${session.sessionId} left resumable at epoch ${session.epoch}`);
      return run.code;
    }
    try {
      // The epoch held is the compare-and-set: if another worker resumed meanwhile, we lost the session.
      session = await launch.sessions.resume(session.sessionId, session.epoch);
    } catch (err) {
      const superseded = err instanceof ControlRefusal && err.code === 'epoch_conflict';
      launch.say(superseded ? `session ${session.sessionId} was resumed by another worker (epoch_conflict): superseded, not restarting` : `cannot resume to restart: ${describe(err)}`);
      return run.code;
    }
    launch.say(`command exited ${run.code}; restart ${restarts + 1} of ${launch.options.restarts} at epoch ${session.epoch}`);
  }
}

async function runOnce(launch: Launch, session: HeldSession): Promise<ChildRun & { token: string }> {
  const checkpointFile = session.checkpoint !== null ? launch.dir.write(CHECKPOINT_FILE, JSON.stringify(session.checkpoint)) : undefined;
  const keeper = keepSession({ sessions: launch.sessions, session, dir: launch.dir, report: launch.say });
  const files = { tokenFile: join(launch.dir.path, TOKEN_FILE), checkpointFile };
  try {
    const run = await runChild(launch.options.command, childEnvironment(launch.env, session, files, launch.options.controlUrl), launch.say);
    return { ...run, token: keeper.currentToken() };
  } finally {
    keeper.stop();
  }
}

async function closeSession(launch: Launch, session: HeldSession, run: { token: string }): Promise<number> {
  try {
    await launch.sessions.close(session.sessionId, run.token);
    launch.say(`command exited 0; session ${session.sessionId} closed`);
  } catch (err) {
    launch.say(`command exited 0, but closing session ${session.sessionId} failed: ${describe(err)}`);
  }
  return EXIT_OK;
}

function describe(err: unknown): string {
  if (err instanceof ControlRefusal || err instanceof ControlUnreachableError) return err.message;
  return (err as Error).message;
}

function usage(io: CliIo, message: string): number {
  io.stderr(`epochgate run: ${message}\n\n${RUN_HELP}`);
  return EXIT_USAGE;
}
