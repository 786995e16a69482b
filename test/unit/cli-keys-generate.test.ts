// SPEC §15: `keys generate` writes the key set the operator config names (--config, EPOCHGATE_CONFIG,
// config/epochgate.yaml), unless --out FILE is given; never a stray ./var/keys.json.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKeysGenerate } from '../../src/cli/keys-generate.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

function configDir(): { dir: string; config: string; keys: string } {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-keys-'));
  const config = join(dir, 'gateway.yaml');
  writeFileSync(config, 'tokens:\n  keys: secrets/signing.json\nstore:\n  kind: memory\npolicies: policies\ntools:\n  billing:\n    upstream: "http://127.0.0.1:9001/api"\n');
  return { dir, config, keys: join(dir, 'secrets/signing.json') };
}

const kids = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

describe('epochgate keys generate', () => {
  it('writes the key file named by --config (tokens.keys, relative to the config file)', async () => {
    const { config, keys } = configDir();
    const run = capture();
    expect(await runKeysGenerate(['--config', config], run.io)).toBe(0);
    expect(kids(keys)).toEqual([run.out.stdout.trim()]);
    expect(run.out.stderr).toContain(keys);
  });

  it('writes the key file named by the config in EPOCHGATE_CONFIG', async () => {
    const { config, keys } = configDir();
    expect(await runKeysGenerate([], capture().io, { EPOCHGATE_CONFIG: config })).toBe(0);
    expect(await runKeysGenerate([], capture().io, { EPOCHGATE_CONFIG: config })).toBe(0);
    expect(kids(keys)).toHaveLength(2);
  });

  it('writes FILE with --out, whatever the config says', async () => {
    const { config, keys, dir } = configDir();
    const out = join(dir, 'elsewhere.json');
    expect(await runKeysGenerate(['--out', out], capture().io, { EPOCHGATE_CONFIG: config })).toBe(0);
    expect(kids(out)).toHaveLength(1);
    expect(existsSync(keys)).toBe(false);
  });

  it('exits 1 naming the problem when the config cannot be read, and writes nothing', async () => {
    const { dir } = configDir();
    const run = capture();
    expect(await runKeysGenerate(['--config', join(dir, 'missing.yaml')], run.io)).toBe(1);
    expect(run.out.stderr).toContain('missing.yaml');
    expect(run.out.stderr).toContain('--out FILE');
    expect(existsSync(join(dir, 'var'))).toBe(false);
  });

  it('refuses --config together with --out (exit 2)', async () => {
    const { config, dir } = configDir();
    expect(await runKeysGenerate(['--config', config, '--out', join(dir, 'k.json')], capture().io)).toBe(2);
  });
});
