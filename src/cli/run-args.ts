// Command line of `epochgate run` (SPEC §15 "Unmodified agents"): everything before `--` is the launcher's,
// everything after it is the agent's command, passed on untouched (its own flags never reach our parser).
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_CONTROL_URL } from './control-client.js';

export const RUN_HELP = `Usage: epochgate run --agent ID (--secret-env VAR | --assertion-cmd CMD) [--task T] [--scope a,b]
                     [--control URL] [--restart N] -- CMD [ARG…]

Runs an unmodified agent with a session token. Creates the session for task T, or resumes the agent's
open session for T (409 session_exists, e.g. after the launcher itself crashed), then runs CMD with:
  EPOCHGATE_TOKEN            the session token at start
  EPOCHGATE_TOKEN_FILE       a file (mode 0600, one line) holding the current token, replaced atomically
                             and refreshed when less than a third of the token's lifetime is left
  EPOCHGATE_SESSION_ID, EPOCHGATE_EPOCH, EPOCHGATE_CONTROL_URL
  EPOCHGATE_TOOL_URL_<TOOL>  each tool's URL on the gateway (upper-cased, "-" becomes "_")
  EPOCHGATE_CHECKPOINT_FILE  when the session has a checkpoint: the resume answer's "checkpoint" as JSON
While CMD runs the lease is renewed; SIGINT and SIGTERM are passed on to CMD. When CMD exits 0 the session
is closed; otherwise it stays resumable. With --restart N a CMD that exits non-zero is started again (up
to N times) after a resume with expected_epoch = the epoch held: a new epoch, so the crashed process's
token is dead; "epoch_conflict" means another worker took the session over, and the launcher stops.

Options:
  --agent ID           the agent id (a policy's agents: key)
  --secret-env VAR     read the agent's client secret from environment variable VAR; VAR is removed
                       from CMD's environment (the secret never appears in argv, output or CMD's env)
  --assertion-cmd CMD  a shell command that prints a fresh client assertion (RFC 7523 JWT) each time
                       one is needed
  --task T             task id (default: a new one, so no resume of an earlier run)
  --scope a,b          narrow the session to these tools (default: every tool the agent may reach)
  --control URL        control-plane URL (default: $EPOCHGATE_CONTROL_URL, else ${DEFAULT_CONTROL_URL})
  --restart N          restart a CMD that exited non-zero up to N times (default 0)
  -h, --help           show this help
Exit status: CMD's (128 + signal number when it was killed by a signal); 1 when the session could not
be created or resumed; 2 usage error.
`;

const OPTIONS = {
  agent: { type: 'string' },
  'secret-env': { type: 'string' },
  'assertion-cmd': { type: 'string' },
  task: { type: 'string' },
  scope: { type: 'string' },
  control: { type: 'string' },
  restart: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TOOL = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const runSchema = z
  .object({
    agent: z.string().min(1, '--agent is required'),
    'secret-env': z.string().regex(ENV_NAME, '--secret-env must be an environment variable name').optional(),
    'assertion-cmd': z.string().min(1, '--assertion-cmd must not be empty').optional(),
    task: z.string().min(1, '--task must not be empty').max(256, '--task is too long').optional(),
    scope: z
      .string()
      .transform((text) => text.split(',').map((tool) => tool.trim()))
      .refine((tools) => tools.every((tool) => TOOL.test(tool)), '--scope must be a comma-separated list of tool names')
      .optional(),
    control: z
      .string()
      .refine((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol), '--control must be an http(s) URL'),
    restart: z
      .string()
      .regex(/^\d{1,4}$/, '--restart must be a whole number from 0 to 1000')
      .transform(Number)
      .refine((n) => n <= 1000, '--restart must be a whole number from 0 to 1000')
      .default(0),
  })
  .refine((v) => (v['secret-env'] === undefined) !== (v['assertion-cmd'] === undefined), 'give exactly one of --secret-env VAR or --assertion-cmd CMD');

export interface RunOptions {
  readonly agentId: string;
  readonly credential: { readonly kind: 'secret-env'; readonly variable: string } | { readonly kind: 'assertion-cmd'; readonly command: string };
  readonly taskId: string | undefined;
  readonly scope: readonly string[] | undefined;
  readonly controlUrl: string;
  readonly restarts: number;
  readonly command: readonly [string, ...string[]];
}

export type RunArgs = { readonly kind: 'help' } | { readonly kind: 'usage'; readonly message: string } | { readonly kind: 'run'; readonly options: RunOptions };

export function parseRunArgs(args: readonly string[], env: NodeJS.ProcessEnv): RunArgs {
  const split = args.indexOf('--');
  const own = split === -1 ? [...args] : args.slice(0, split);
  const command = split === -1 ? [] : args.slice(split + 1);
  let values;
  try {
    ({ values } = parseArgs({ args: own, options: OPTIONS, allowPositionals: false, strict: true }));
  } catch (err) {
    return { kind: 'usage', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const parsed = runSchema.safeParse({ ...values, agent: values.agent ?? '', control: values.control ?? env.EPOCHGATE_CONTROL_URL ?? DEFAULT_CONTROL_URL });
  if (!parsed.success) return { kind: 'usage', message: parsed.error.issues.map((issue) => issue.message).join('; ') };
  const [program, ...rest] = command;
  if (program === undefined || program === '') return { kind: 'usage', message: 'no command: put the agent command after --' };
  const v = parsed.data;
  return {
    kind: 'run',
    options: {
      agentId: v.agent,
      credential: v['secret-env'] !== undefined ? { kind: 'secret-env', variable: v['secret-env'] } : { kind: 'assertion-cmd', command: v['assertion-cmd']! },
      taskId: v.task,
      scope: v.scope,
      controlUrl: v.control.replace(/\/+$/, ''),
      restarts: v.restart,
      command: [program, ...rest],
    },
  };
}
