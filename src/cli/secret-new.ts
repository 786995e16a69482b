// `epochgate secret new` (SPEC §15): a new random secret for an agent or person credential, and the
// `sha256:` line for the policy file (SPEC §3: policies hold only the digest, never the secret).
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../util/hash.js';
import { EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';

/** 256 bits: far beyond guessing, and a SHA-256 digest of it needs no slow KDF. */
export const SECRET_BYTES = 32;

const USAGE = `Usage: epochgate secret new

Prints a new random secret (${SECRET_BYTES} bytes, base64url) on the first line and, on the second, the
line to put in a policy file credential:

  credentials:
    - type: secret
      sha256: "<hex>"

Give the secret to the agent or person; keep only the sha256 line in the policy.

Options:
  -h, --help    show this help
`;

export async function runSecretNew(args: string[], io: CliIo): Promise<number> {
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  if (args.length > 0) {
    io.stderr(`epochgate secret new: unexpected argument ${JSON.stringify(args[0])}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  io.stdout(`${secret}\nsha256: "${sha256Hex(secret)}"\n`);
  return EXIT_OK;
}
