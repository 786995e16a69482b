// `epochgate keys generate [--keys PATH]` (SPEC §15): appends a new Ed25519 signing key to the key file
// (creating the file if absent). The new key is the newest, so it signs once the gateway restarts; the
// older keys stay in the file and keep verifying tokens already issued (SPEC §6 rotation).
// Prints the new kid only: the private key never leaves the file (0600).
import { resolve } from 'node:path';
import { generateKeyInto } from '../sessions/signing-keys.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';

/** The shipped config keeps keys at var/keys.json below the project (config/epochgate.yaml: ../var/keys.json). */
export const DEFAULT_KEYS_PATH = 'var/keys.json';

const USAGE = `Usage: epochgate keys generate [--keys PATH]

Appends a new Ed25519 signing key to the key file (a private JWK set, mode 0600), creating the file if
it does not exist, and prints the new key id (kid). The newest key signs session tokens after the next
gateway start; older keys keep verifying tokens already issued. Remove an old key from the file once
every token it signed has expired.

Options:
  --keys PATH   key file (default: ${DEFAULT_KEYS_PATH}, the shipped config's tokens.keys)
  -h, --help    show this help
`;

export async function runKeysGenerate(args: string[], io: CliIo): Promise<number> {
  let path = DEFAULT_KEYS_PATH;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') {
      io.stdout(USAGE);
      return EXIT_OK;
    }
    if (arg === '--keys' || arg.startsWith('--keys=')) {
      const value = arg === '--keys' ? args[++i] : arg.slice('--keys='.length);
      if (!value) return usageError(io, '--keys needs a PATH');
      path = value;
      continue;
    }
    return usageError(io, `unexpected argument ${JSON.stringify(arg)}`);
  }
  const absolute = resolve(path);
  try {
    const { kid, count } = await generateKeyInto(absolute);
    io.stdout(`${kid}\n`);
    io.stderr(`added key ${kid} to ${absolute} (${count} key${count === 1 ? '' : 's'}; the newest signs after the next start)\n`);
    return EXIT_OK;
  } catch (err) {
    io.stderr(`epochgate keys generate: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`epochgate keys generate: ${message}\n\n${USAGE}`);
  return EXIT_USAGE;
}
