// `epochgate audit verify FILE…` (SPEC §13, §15): checks the hash chains of audit files and names the first
// broken line of each. Exit 0 every file verifies, 1 any break (or a file that cannot be read: an audit file
// that cannot be checked has not passed the check, and 2 stays reserved for command-line mistakes), 2 usage.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { verifyAuditLines } from '../audit/verify.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';

export const AUDIT_VERIFY_HELP = `Usage: epochgate audit verify FILE [FILE…]

Verifies the hash chains of audit files (one OCSF record per line). For each file prints
  FILE: ok: N records in M chains
or the first line where a record was changed, removed, inserted or reordered, or the last line is truncated:
  FILE:LINE: REASON: MESSAGE
Exit status: 0 every file verifies, 1 a file has a break or cannot be read, 2 usage error.
`;

export async function runAuditVerify(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, strict: true, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.stderr(`epochgate audit verify: ${(err as Error).message}\n\n${AUDIT_VERIFY_HELP}`);
    return EXIT_USAGE;
  }
  if (parsed.values.help) {
    io.stdout(AUDIT_VERIFY_HELP);
    return EXIT_OK;
  }
  if (parsed.positionals.length === 0) {
    io.stderr(`epochgate audit verify: no FILE given\n\n${AUDIT_VERIFY_HELP}`);
    return EXIT_USAGE;
  }
  let status = EXIT_OK;
  for (const file of parsed.positionals) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      io.stderr(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
      status = EXIT_FAILED;
      continue;
    }
    const result = verifyAuditLines(text);
    if (result.ok) {
      io.stdout(`${file}: ok: ${result.records} records in ${result.chains} chains\n`);
    } else {
      io.stdout(`${file}:${result.line}: ${result.reason}: ${result.message}\n`);
      status = EXIT_FAILED;
    }
  }
  return status;
}
