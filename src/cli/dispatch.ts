// Picks the command for an argv (SPEC §15): `epochgate <command> …`, where a command may be two words
// (`keys generate`). A group word alone or with --help (`epochgate keys --help`) prints the group's
// commands: every command and every command group answers --help.
import { COMMANDS } from './commands.js';
import { EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';

const HELP = new Set(['--help', '-h', 'help']);

export function usage(): string {
  const lines = [...COMMANDS].map(([name, { summary }]) => `  ${name.padEnd(16)} ${summary}`);
  return `Usage: epochgate <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'epochgate <command> --help' for a command's options.\n`;
}

function groupHelp(group: string, names: readonly string[]): string {
  const lines = names.map((name) => `  epochgate ${name.padEnd(16)} ${COMMANDS.get(name)!.summary}`);
  return `Usage: epochgate ${group} <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'epochgate ${group} <command> --help' for a command's options.\n`;
}

export async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || HELP.has(first)) {
    (first === undefined ? io.stderr : io.stdout)(usage());
    return first === undefined ? EXIT_USAGE : EXIT_OK;
  }
  for (const words of [2, 1]) {
    const entry = COMMANDS.get(argv.slice(0, words).join(' '));
    if (entry) return entry.run(argv.slice(words), io);
  }
  const group = [...COMMANDS.keys()].filter((name) => name.startsWith(`${first} `));
  if (group.length > 0 && (second === undefined || HELP.has(second))) {
    (second === undefined ? io.stderr : io.stdout)(groupHelp(first, group));
    return second === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const message = group.length > 0 ? groupHelp(first, group) : usage();
  io.stderr(`epochgate: unknown command '${argv.slice(0, 2).join(' ')}'\n\n${message}`);
  return EXIT_USAGE;
}
