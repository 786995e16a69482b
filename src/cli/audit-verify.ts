// `epochgate audit verify FILE… [--config F | --jwks URL]` (SPEC §13, §15): checks the hash chains of audit
// files and names the first broken line of each; checks every anchor (it names the record before it, and
// its signature verifies with a gateway key); with --config, compares the files with the store's anchors
// (a cut tail, a removed chain or file). Exit 0 everything verifies, 1 any finding (or a file, key set or
// store that cannot be read: what cannot be checked has not passed the check), 2 usage.
import { parseArgs } from 'node:util';
import { verifyFiles } from '../audit/verify-files.js';
import { sourcesFromConfig, sourcesFromJwks, type VerifySources } from './audit-keys.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';

export const AUDIT_VERIFY_HELP = `Usage: epochgate audit verify FILE [FILE…] [--config F | --jwks URL]

Verifies the hash chains of audit files (one OCSF record per line) and their signed anchors. For each
file prints
  FILE: ok: N records in M chains, K anchors
or the first line where a record was changed, removed, inserted or reordered, or the last line is truncated:
  FILE:LINE: REASON: MESSAGE
and each anchor finding (anchor_forged, anchor_mismatch, cut_tail, removed_chain) the same way.
  --config F   check anchor signatures with the gateway's key file, and compare the files with the anchors
               in its store (read-only; works while the gateway runs): give every file of the period
  --jwks URL   check anchor signatures with the keys a gateway publishes (…/.well-known/jwks.json)
Exit status: 0 everything verifies, 1 a finding or something could not be read, 2 usage error.
`;

export async function runAuditVerify(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    const options = { help: { type: 'boolean', short: 'h' }, config: { type: 'string' }, jwks: { type: 'string' } } as const;
    parsed = parseArgs({ args, strict: true, allowPositionals: true, options });
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(AUDIT_VERIFY_HELP);
    return EXIT_OK;
  }
  if (positionals.length === 0) return usage(io, 'no FILE given');
  if (values.config !== undefined && values.jwks !== undefined) return usage(io, 'give --config or --jwks, not both');
  if (values.jwks !== undefined && !/^https?:\/\//.test(values.jwks)) return usage(io, '--jwks must be an http(s) URL');
  let sources: VerifySources | undefined;
  try {
    if (values.config !== undefined) sources = await sourcesFromConfig(values.config);
    else if (values.jwks !== undefined) sources = await sourcesFromJwks(values.jwks);
  } catch (err) {
    io.stderr(`epochgate audit verify: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
  const ok = await verifyFiles(positionals, {
    ...(sources ? { keys: sources.keys } : {}),
    ...(sources?.stored ? { stored: sources.stored } : {}),
    out: (line) => io.stdout(`${line}\n`),
    err: (line) => io.stderr(`${line}\n`),
  });
  io.stderr(sourceNote(sources));
  return ok ? EXIT_OK : EXIT_FAILED;
}

function sourceNote(sources: VerifySources | undefined): string {
  if (sources === undefined) return 'anchor signatures were not checked: give --config or --jwks\n';
  const store = sources.stored ? `; compared with the anchors stored in ${sources.stored.name}` : sources.storeNote ? `; ${sources.storeNote}` : '';
  return `anchor signatures checked with ${sources.keySource}${store}\n`;
}

function usage(io: CliIo, problem: string): number {
  io.stderr(`epochgate audit verify: ${problem}\n\n${AUDIT_VERIFY_HELP}`);
  return EXIT_USAGE;
}
