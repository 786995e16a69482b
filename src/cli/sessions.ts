// `epochgate sessions list|show|revoke` (SPEC §15): admin views of a running gateway over the control API
// (SPEC §7: GET /v1/sessions, GET /v1/sessions/{id}, POST /v1/sessions/{id}/revoke), as a person with the
// admin role. Table by default, --json for the API's own JSON. Session views never carry a token.
import { parseArgs } from 'node:util';
import { EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { CONTROL_OPTIONS, CONTROL_OPTIONS_HELP, controlCall, controlTarget, formatTable } from './control-client.js';
import { SESSION_STATES } from '../store/types.js';

export const SESSIONS_HELP = `Usage:
  epochgate sessions list [--state S] [--agent A] [--task T] [options]
      List sessions (state: active, suspended, closed or revoked).
  epochgate sessions show SESSION_ID [options]
      Show one session with its latest checkpoint.
  epochgate sessions revoke SESSION_ID [--reason TEXT] [options]
      Revoke a session: final, every token of it is refused from then on.
Options:
${CONTROL_OPTIONS_HELP}The token is a person's secret; these calls need the admin role.
Exit status: 0 ok, 1 the gateway refused or could not be reached, 2 usage error.
`;

const OPTIONS = {
  ...CONTROL_OPTIONS,
  state: { type: 'string' },
  agent: { type: 'string' },
  task: { type: 'string' },
  reason: { type: 'string' },
} as const;

const STATES: readonly string[] = SESSION_STATES;
// Same shape as the control plane's route parameter: nothing that could change the request path.
const SESSION_ID = /^[A-Za-z0-9_-]{1,100}$/;

interface SessionView {
  session_id: string;
  task_id: string;
  agent_id: string;
  state: string;
  state_reason: string | null;
  epoch: number;
  scope: string[];
  created_at: string;
  updated_at: string;
  lease_expires_at: string;
  resumes: number;
  metadata: unknown;
  last_checkpoint: { seq: number; label: string | null; epoch: number; created_at: string; state_digest: string } | null;
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

export async function runSessionsCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (sub === '--help' || sub === '-h' || values.help) {
    io.stdout(SESSIONS_HELP);
    return EXIT_OK;
  }
  const wrong = commandLineError(sub, positionals, values);
  if (wrong !== undefined) return usage(io, wrong);
  const target = controlTarget(values);
  if (typeof target === 'string') return usage(io, target);
  const res = await controlCall(`sessions ${sub}`, io, { ...target, ...requestFor(sub!, positionals[0], values) });
  if (typeof res === 'number') return res;
  if (values.json) io.stdout(`${JSON.stringify(res.body, null, 2)}\n`);
  else io.stdout(humanAnswer(sub!, res.body));
  return EXIT_OK;
}

/** What is wrong with the command line, or undefined when it is well formed. */
function commandLineError(sub: string | undefined, positionals: string[], values: Values): string | undefined {
  if (sub !== 'list' && sub !== 'show' && sub !== 'revoke') return "expected 'list', 'show' or 'revoke'";
  // Filters belong to list, --reason to revoke: a flag that would be ignored is a usage error.
  const filter = (['state', 'agent', 'task'] as const).find((k) => values[k] !== undefined);
  if (sub !== 'list' && filter) return `--${filter} is only for 'sessions list'`;
  if (sub !== 'revoke' && values.reason !== undefined) return `--reason is only for 'sessions revoke'`;
  const expected = sub === 'list' ? 0 : 1;
  if (positionals.length !== expected) return expected === 0 ? `'sessions list' takes no SESSION_ID` : `'sessions ${sub}' needs exactly one SESSION_ID`;
  const id = positionals[0];
  if (id !== undefined && !SESSION_ID.test(id)) return 'SESSION_ID must be a session id such as ses_…';
  if (values.state !== undefined && !STATES.includes(values.state)) return `--state must be one of ${STATES.join(', ')}`;
  return undefined;
}

function requestFor(sub: string, id: string | undefined, values: Values) {
  if (sub === 'list') return { method: 'GET', path: '/v1/sessions', query: { state: values.state, agent_id: values.agent, task_id: values.task } } as const;
  if (sub === 'show') return { method: 'GET', path: `/v1/sessions/${id}` } as const;
  return { method: 'POST', path: `/v1/sessions/${id}/revoke`, body: values.reason !== undefined ? { reason: values.reason } : {} } as const;
}

function humanAnswer(sub: string, body: unknown): string {
  if (sub === 'list') {
    const sessions = (body as { sessions?: SessionView[] }).sessions ?? [];
    return sessions.length === 0 ? 'no sessions\n' : sessionTable(sessions);
  }
  const session = body as SessionView;
  if (sub === 'revoke') return `revoked ${session.session_id} (agent ${session.agent_id}, task ${session.task_id}, epoch ${session.epoch})\n`;
  return sessionDetails(session);
}

function usage(io: CliIo, message: string): number {
  io.stderr(`epochgate sessions: ${message}\n\n${SESSIONS_HELP}`);
  return EXIT_USAGE;
}

function sessionTable(sessions: readonly SessionView[]): string {
  return formatTable(
    ['SESSION', 'AGENT', 'TASK', 'STATE', 'EPOCH', 'RESUMES', 'LEASE EXPIRES', 'UPDATED'],
    sessions.map((s) => [
      s.session_id,
      s.agent_id,
      s.task_id,
      s.state_reason ? `${s.state} (${s.state_reason})` : s.state,
      String(s.epoch),
      String(s.resumes),
      s.lease_expires_at,
      s.updated_at,
    ]),
  );
}

function sessionDetails(s: SessionView): string {
  const cp = s.last_checkpoint;
  const rows: [string, string][] = [
    ['session', s.session_id],
    ['agent', s.agent_id],
    ['task', s.task_id],
    ['state', s.state_reason ? `${s.state} (${s.state_reason})` : s.state],
    ['epoch', String(s.epoch)],
    ['resumes', String(s.resumes)],
    ['scope', s.scope.join(' ') || '(empty)'],
    ['created', s.created_at],
    ['updated', s.updated_at],
    ['lease expires', s.lease_expires_at],
    ['checkpoint', cp ? `#${cp.seq} ${cp.label ?? '(no label)'} at epoch ${cp.epoch}, ${cp.created_at}, sha256 ${cp.state_digest}` : 'none'],
  ];
  if (s.metadata !== null && s.metadata !== undefined) rows.push(['metadata', JSON.stringify(s.metadata)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}\n`).join('');
}
