#!/usr/bin/env node
// Process entry: pick the command, run it, exit with its code (0 ok, 1 check failed, 2 usage).
import { COMMANDS } from './cli/commands.js';
import { EXIT_OK, EXIT_USAGE, processIo } from './cli/io.js';

function usage(): string {
  const lines = [...COMMANDS].map(([name, { summary }]) => `  ${name.padEnd(16)} ${summary}`);
  return `Usage: epochgate <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'epochgate <command> --help' for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    (argv.length === 0 ? processIo.stderr : processIo.stdout)(usage());
    return argv.length === 0 ? EXIT_USAGE : EXIT_OK;
  }
  for (const words of [2, 1]) {
    const entry = COMMANDS.get(argv.slice(0, words).join(' '));
    if (entry) return entry.run(argv.slice(words), processIo);
  }
  processIo.stderr(`epochgate: unknown command '${argv.slice(0, 2).join(' ')}'\n\n${usage()}`);
  return EXIT_USAGE;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    processIo.stderr(`epochgate: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
