// SPEC §15: `--help` on every command and every command group (`epochgate keys --help`), exit 0 with a
// usage text on stdout; a group word alone or an unknown subcommand is a usage error (2).
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { dispatch } from '../../src/cli/dispatch.js';

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await dispatch(argv, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

const commands = [...COMMANDS.keys()];
const groups = [...new Set(commands.map((name) => name.split(' ')[0]!))];

describe('epochgate --help', () => {
  it.each(commands)('epochgate %s --help prints its usage and exits 0', async (name) => {
    const res = await run(...name.split(' '), '--help');
    expect(res).toMatchObject({ code: 0, err: '' });
    expect(res.out).toMatch(/Usage/);
  });

  it.each(groups)('epochgate %s --help prints the group and exits 0', async (group) => {
    const res = await run(group, '--help');
    expect(res).toMatchObject({ code: 0, err: '' });
    expect(res.out).toMatch(/Usage/);
    for (const name of commands.filter((c) => c.startsWith(`${group} `))) expect(res.out).toContain(`epochgate ${name}`);
  });

  it('lists every command on epochgate --help, and exits 2 without a command', async () => {
    const res = await run('--help');
    expect(res.code).toBe(0);
    for (const name of commands) expect(res.out).toContain(name);
    expect((await run()).code).toBe(2);
  });

  it('answers a group word alone and an unknown subcommand with usage error 2 listing the group', async () => {
    const alone = await run('keys');
    expect(alone.code).toBe(2);
    expect(alone.err).toContain('epochgate keys generate');
    const unknown = await run('secret', 'old');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown command 'secret old'");
    expect(unknown.err).toContain('epochgate secret new');
    expect((await run('frobnicate')).code).toBe(2);
  });
});
