// `epochgate token [--token-file F]` (SPEC §15): a headers helper for MCP hosts. Prints the Authorization
// header for the token file that `epochgate run` keeps fresh. It holds no credential of its own and
// verifies nothing (the gateway does): it only refuses to hand out a token that is visibly missing or
// expired, so the host gets a clear message instead of a stream of 401s.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { unverifiedClaims } from './jwt-claims.js';

export const TOKEN_HELP = `Usage: epochgate token [--token-file FILE]

Prints {"Authorization": "Bearer <token>"} for the token in FILE (default: $EPOCHGATE_TOKEN_FILE), the
file that 'epochgate run' keeps fresh. For MCP hosts that take a headers helper command, e.g. Claude
Code's "headersHelper": "epochgate token".
Exit status: 0 printed; 1 the file is missing or unreadable, or its token has expired; 2 usage error.

Options:
  --token-file FILE  the token file (default: $EPOCHGATE_TOKEN_FILE)
  -h, --help         show this help
`;

export async function runToken(args: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env, now = Date.now()): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, strict: true, allowPositionals: false, options: { 'token-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    io.stderr(`epochgate token: ${(err as Error).message}\n\n${TOKEN_HELP}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    io.stdout(TOKEN_HELP);
    return EXIT_OK;
  }
  const file = values['token-file'] ?? env.EPOCHGATE_TOKEN_FILE;
  if (!file) {
    io.stderr(`epochgate token: no token file: pass --token-file or set EPOCHGATE_TOKEN_FILE (run the agent under 'epochgate run')\n`);
    return EXIT_FAILED;
  }
  const token = await readToken(file);
  if (typeof token !== 'string') return fail(io, `${file}: ${token.problem}`);
  const exp = unverifiedClaims(token)?.exp;
  if (exp === undefined) return fail(io, `${file}: does not hold a session token`);
  if (exp * 1000 <= now) {
    return fail(io, `${file}: the token expired at ${new Date(exp * 1000).toISOString()}; is the 'epochgate run' that keeps it fresh still running?`);
  }
  io.stdout(`{"Authorization": ${JSON.stringify(`Bearer ${token}`)}}\n`);
  return EXIT_OK;
}

async function readToken(file: string): Promise<string | { problem: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: code === 'ENOENT' ? "no such file (has 'epochgate run' ended?)" : `cannot read (${code ?? (err as Error).message})` };
  }
  const lines = text.split('\n').filter((line) => line !== '');
  return lines.length === 1 ? lines[0]!.trim() : { problem: 'expected one line holding the token' };
}

function fail(io: CliIo, message: string): number {
  io.stderr(`epochgate token: ${message}\n`);
  return EXIT_FAILED;
}
