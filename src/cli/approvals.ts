// `epochgate approvals list|show|approve|deny` (SPEC §15): a person's view of SPEC §9 approvals, against a
// running gateway's control plane. Exit codes: 0 ok, 1 the request failed, 2 usage.
import { parseArgs } from 'node:util';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { ControlUnreachableError, DEFAULT_CONTROL_URL, controlRequest, controlTarget, type ControlResponse } from './control-client.js';
import { approvalDetail, approvalTable, decisionLine, safeText } from './approvals-format.js';
import { APPROVAL_STATES } from '../store/approval-types.js';


export const APPROVALS_HELP = `Usage:
  epochgate approvals list [--state STATE] [--session SESSION_ID]
      Approvals you may decide (admins: all), newest first. STATE: pending, approved, denied, consumed, expired.
  epochgate approvals show APPROVAL_ID
      One approval with its action, digest, decision and body preview.
  epochgate approvals approve APPROVAL_ID [--comment TEXT]
  epochgate approvals deny APPROVAL_ID [--comment TEXT]
      Decide a pending approval (needs one of its rule's approver roles; admin alone does not suffice).

Options:
  --url URL       control-plane URL (default: $EPOCHGATE_URL, else ${DEFAULT_CONTROL_URL})
  --token SECRET  your person secret (default: $EPOCHGATE_TOKEN; prefer the variable: arguments are
                  visible to other users of the machine)
  --json          print the control plane's JSON answer instead of a table
  -h, --help      show this help

Exit codes: 0 ok, 1 the request failed (the error code is printed), 2 usage error.
`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  state: { type: 'string' },
  session: { type: 'string' },
  comment: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const STATES = new Set<string>(APPROVAL_STATES);
const SUBCOMMANDS = new Set(['list', 'show', 'approve', 'deny']);

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

export async function runApprovalsCommand(args: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(APPROVALS_HELP);
    return EXIT_OK;
  }
  const [sub, id, ...extra] = positionals;
  const wrong = commandLineError(sub, id, extra, values);
  if (wrong !== undefined) return usage(io, wrong);
  const target = controlTarget(values, env);
  if (typeof target === 'string') return usage(io, target);
  let answer: ControlResponse;
  try {
    answer = await controlRequest({ ...target, ...requestFor(sub!, id, values) });
  } catch (err) {
    if (!(err instanceof ControlUnreachableError)) throw err;
    io.stderr(`epochgate approvals ${sub}: ${err.message}\n`);
    return EXIT_FAILED;
  }
  return printAnswer(io, sub!, answer, values.json === true);
}

/** What is wrong with the command line, or undefined when it is well formed. */
function commandLineError(sub: string | undefined, id: string | undefined, extra: string[], values: Values): string | undefined {
  if (sub === undefined || !SUBCOMMANDS.has(sub)) return "expected 'list', 'show', 'approve' or 'deny'";
  if (sub === 'list' ? id !== undefined : id === undefined || extra.length > 0) {
    return sub === 'list' ? 'list takes no approval id' : `${sub} takes exactly one approval id`;
  }
  if (sub === 'list' && values.state !== undefined && !STATES.has(values.state)) return `unknown state ${JSON.stringify(values.state)}`;
  if (sub !== 'list' && (values.state !== undefined || values.session !== undefined)) return '--state and --session are for list';
  if ((sub === 'list' || sub === 'show') && values.comment !== undefined) return '--comment is for approve and deny';
  return undefined;
}

function requestFor(sub: string, id: string | undefined, values: Values) {
  if (sub === 'list') return { method: 'GET', path: '/v1/approvals', query: { state: values.state, session_id: values.session } } as const;
  const path = `/v1/approvals/${encodeURIComponent(id!)}`;
  if (sub === 'show') return { method: 'GET', path } as const;
  return { method: 'POST', path: `${path}/${sub}`, body: values.comment !== undefined ? { comment: values.comment } : {} } as const;
}

function printAnswer(io: CliIo, sub: string, answer: ControlResponse, json: boolean): number {
  if (!answer.ok) {
    if (json && answer.body !== undefined) io.stdout(`${JSON.stringify(answer.body, null, 2)}\n`);
    io.stderr(`epochgate approvals ${sub}: ${answer.status} ${answer.code}: ${safeText(answer.detail)}\n`);
    return EXIT_FAILED;
  }
  if (json) {
    io.stdout(`${JSON.stringify(answer.body, null, 2)}\n`);
    return EXIT_OK;
  }
  const body = answer.body as Record<string, unknown>;
  if (sub === 'list') io.stdout(approvalTable((body.approvals ?? []) as Record<string, unknown>[]));
  else if (sub === 'show') io.stdout(approvalDetail(body));
  else io.stdout(decisionLine(body));
  return EXIT_OK;
}

function usage(io: CliIo, message: string): number {
  io.stderr(`epochgate approvals: ${message}\n\n${APPROVALS_HELP}`);
  return EXIT_USAGE;
}
