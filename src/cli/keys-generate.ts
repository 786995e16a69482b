// `epochgate keys generate [--config PATH | --out FILE]` (SPEC §15): appends a new Ed25519 signing key to
// the key set the operator config names (`tokens.keys`), creating the file if absent, or to FILE with
// --out. Reading the config keeps rotation honest: a key written anywhere else would never sign. The new
// key is the newest, so it signs once the gateway reloads its keys (SIGHUP) or restarts; the older
// keys stay in the file and keep verifying tokens already issued (SPEC §6 rotation).
// Prints the new kid only: the private key never leaves the file (0600).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { generateKeyInto } from '../sessions/signing-keys.js';
import { configPath } from './config-path.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';

const USAGE = `Usage: epochgate keys generate [--config PATH | --out FILE]

Appends a new Ed25519 signing key to the key set (a private JWK set, mode 0600), creating the file if it
does not exist, and prints the new key id (kid). The file is the operator config's tokens.keys, or FILE
with --out. The newest key signs session tokens once the gateway reloads its keys (SIGHUP, no restart
needed) or restarts; older keys keep verifying tokens already issued. Once every token an old key signed
has expired, retire it (POST /v1/keys/{kid}/retire) and remove it from the file.

Options:
  --config PATH   operator config whose tokens.keys is written (default: $EPOCHGATE_CONFIG, else
                  config/epochgate.yaml)
  --out FILE      write to FILE instead (--keys FILE is the same)
  -h, --help      show this help
Exit status: 0 key added, 1 the config or the key file could not be read or written, 2 usage error.
`;

export async function runKeysGenerate(args: string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: { config: { type: 'string' }, out: { type: 'string' }, keys: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    return usageError(io, (err as Error).message);
  }
  if (values.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const out = values.out ?? values.keys;
  if (out === '') return usageError(io, '--out needs a FILE');
  if (out !== undefined && values.config !== undefined) return usageError(io, 'give --config or --out, not both');
  let path: string;
  try {
    path = out !== undefined ? resolve(out) : loadConfig(configPath(values.config, env), {}, env).tokens.keysPath;
  } catch (err) {
    io.stderr(`epochgate keys generate: ${(err as Error).message}\n(the key file is the operator config's tokens.keys; pass --config PATH, or --out FILE to name the file)\n`);
    return EXIT_FAILED;
  }
  try {
    const { kid, count } = await generateKeyInto(path);
    io.stdout(`${kid}\n`);
    io.stderr(`added key ${kid} to ${path} (${count} key${count === 1 ? '' : 's'}; the newest signs after SIGHUP or the next start)\n`);
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
