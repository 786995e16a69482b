import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const MINIMAL = `tools:
  billing:
    upstream: "http://127.0.0.1:9001/api/"
`;

function write(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-config-'));
  const file = join(dir, 'epochgate.yaml');
  writeFileSync(file, yaml);
  return file;
}

function failure(yaml: string, env: NodeJS.ProcessEnv = {}, overrides = {}): ConfigError {
  try {
    loadConfig(write(yaml), overrides, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('refuses a __proto__ key at any depth instead of letting it vanish or lend keys to the file', () => {
    const err = failure(`__proto__:\n  log: { level: debug }\n${MINIMAL}    headers:\n      __proto__: x\n`);
    expect(err.issues.map((i) => [i.path, i.line, i.message])).toEqual([
      ['__proto__', 1, 'the key name __proto__ is reserved'],
      ['tools.billing.headers.__proto__', 7, 'the key name __proto__ is reserved'],
    ]);
  });

  it('applies the SPEC §2 defaults and resolves relative paths against the config directory', () => {
    const file = write(MINIMAL);
    const dir = join(file, '..');
    const config = loadConfig(file, {}, {});
    expect(config.file).toBe(file);
    expect(config.listen).toEqual({ data: { host: '127.0.0.1', port: 8080 }, control: { host: '127.0.0.1', port: 8081 } });
    expect(config.publicUrl).toBeNull();
    expect(config.tokens).toEqual({ issuer: 'epochgate', audience: 'epochgate', keysPath: join(dir, '../var/keys.json') });
    expect(config.store).toEqual({ kind: 'sqlite', path: join(dir, '../var/epochgate.db'), synchronous: 'full', ledgerRetentionMs: 7 * 86_400_000 });
    expect(config.policiesDir).toBe(join(dir, '../policies'));
    expect(config.audit.path).toBe('-');
    expect(config.log.level).toBe('info');
    expect(config.limits).toEqual({
      maxHeaderBytes: 16384,
      requestTimeoutMs: 60000,
      shutdownGraceMs: 10000,
      headersTimeoutMs: 10000,
      maxConnections: 10000,
      maxInflightPerSession: 64,
    });
    const tool = config.tools.get('billing')!;
    expect(tool.upstream.href).toBe('http://127.0.0.1:9001/api');
    expect(tool).toMatchObject({ name: 'billing', protocol: 'http', headers: {}, timeoutMs: 30000, maxBodyBytes: 1048576, forwardCookies: false, maxConnections: 128, streamIdleTimeoutMs: 300000 });
  });

  it('resolves audit.path and store.path relative to the config file, keeping "-" for stdout', () => {
    const file = write(`store: { kind: sqlite, path: state/db.sqlite, synchronous: normal }\naudit: { path: logs/audit.log }\npolicies: /abs/policies\n${MINIMAL}`);
    const dir = join(file, '..');
    const config = loadConfig(file, {}, {});
    expect(config.store).toEqual({ kind: 'sqlite', path: join(dir, 'state/db.sqlite'), synchronous: 'normal', ledgerRetentionMs: 7 * 86_400_000 });
    expect(config.audit.path).toBe(join(dir, 'logs/audit.log'));
    expect(config.policiesDir).toBe('/abs/policies');
  });

  it('returns a deeply frozen config', () => {
    const config = loadConfig(write(MINIMAL), {}, {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.listen.data)).toBe(true);
    expect(Object.isFrozen(config.tools.get('billing')!.headers)).toBe(true);
    expect(() => (config.tools as Map<string, unknown>).set('x', {})).toThrow(TypeError);
  });

  it('rejects an unknown key, naming the key path and line', () => {
    const err = failure(`listen:\n  data: "127.0.0.1:1"\n  bogus: 1\n${MINIMAL}`);
    expect(err.issues).toEqual([expect.objectContaining({ path: 'listen.bogus', line: 3, message: 'unknown key' })]);
    expect(err.message).toContain('epochgate.yaml:3: listen.bogus: unknown key');
  });

  it('rejects an unknown key inside a tool', () => {
    const err = failure(`${MINIMAL}    retries: 3\n`);
    expect(err.issues[0]).toMatchObject({ path: 'tools.billing.retries', line: 4 });
  });

  it('substitutes ${NAME} from the environment in string values', () => {
    const config = loadConfig(write(`${MINIMAL}    headers:\n      Authorization: "Bearer \${API_KEY}"\n`), {}, { API_KEY: 'k-123' });
    expect(config.tools.get('billing')!.headers).toEqual({ authorization: 'Bearer k-123' });
  });

  it('fails on a missing environment variable, naming it and the key path', () => {
    const err = failure(`${MINIMAL}    headers:\n      Authorization: "Bearer \${API_KEY}"\n`);
    expect(err.issues).toEqual([expect.objectContaining({ path: 'tools.billing.headers.Authorization', line: 5, message: 'environment variable API_KEY is not set' })]);
  });

  it('never echoes an environment value in an error message', () => {
    const secret = 'sk-live-\r\nsuper-secret';
    const err = failure(`${MINIMAL}    headers:\n      Authorization: "\${API_KEY}"\npublic_url: "\${URL_SECRET}"\n`, { API_KEY: secret, URL_SECRET: 'ftp://user:hunter2@x' });
    expect(err.issues).toHaveLength(2);
    expect(err.message).not.toContain('super-secret');
    expect(err.message).not.toContain('hunter2');
  });

  it('rejects malformed ${…} references', () => {
    const err = failure(`${MINIMAL}    headers:\n      X-A: "\${A:-x}"\n      X-B: "\${B"\n`, { A: '1' });
    expect(err.issues.map((i) => i.path)).toEqual(['tools.billing.headers.X-A', 'tools.billing.headers.X-B']);
  });

  it('rejects bad listen addresses and accepts bracketed IPv6', () => {
    for (const bad of ['127.0.0.1', '127.0.0.1:65536', ':8080', '::1:8080', 'host:port', '[nope]:1']) {
      const err = failure(`listen: { data: "${bad}" }\n${MINIMAL}`);
      expect(err.issues[0], bad).toMatchObject({ path: 'listen.data', line: 1 });
    }
    const config = loadConfig(write(`listen: { data: "[::1]:0", control: "localhost:65535" }\n${MINIMAL}`), {}, {});
    expect(config.listen).toEqual({ data: { host: '::1', port: 0 }, control: { host: 'localhost', port: 65535 } });
  });

  it('lets --listen-data / --listen-control override listen, and validates them', () => {
    const config = loadConfig(write(MINIMAL), { listenData: '0.0.0.0:9000', listenControl: '[::]:9001' }, {});
    expect(config.listen).toEqual({ data: { host: '0.0.0.0', port: 9000 }, control: { host: '::', port: 9001 } });
    const err = failure(MINIMAL, {}, { listenData: 'nope' });
    expect(err.issues[0]).toMatchObject({ file: '--listen-data' });
  });

  it('rejects upstreams that are not absolute http(s) URLs', () => {
    for (const bad of ['127.0.0.1:9001', 'ftp://x/y', '/relative', 'http://u:p@x/', 'http://x/a?q=1', 'http://x/a#f']) {
      const err = failure(`tools:\n  billing:\n    upstream: "${bad}"\n`);
      expect(err.issues[0], bad).toMatchObject({ path: 'tools.billing.upstream', line: 3 });
    }
  });

  it('strips the trailing slash of public_url and validates it', () => {
    expect(loadConfig(write(`public_url: "https://gw.example/"\n${MINIMAL}`), {}, {}).publicUrl).toBe('https://gw.example');
    expect(failure(`public_url: "gw.example"\n${MINIMAL}`).issues[0]).toMatchObject({ path: 'public_url', line: 1 });
  });

  it('lower-cases injected header names and rejects hop-by-hop, invalid or duplicate ones', () => {
    const ok = loadConfig(write(`${MINIMAL}    headers: { X-Api-Key: "v" }\n`), {}, {});
    expect(ok.tools.get('billing')!.headers).toEqual({ 'x-api-key': 'v' });
    for (const header of ['Connection: close', 'Transfer-Encoding: chunked', '"Bad Name": v', 'X-Forwarded-For: x', 'X-Epochgate-Epoch: 1']) {
      expect(failure(`${MINIMAL}    headers: { ${header} }\n`).issues[0]?.path, header).toMatch(/^tools\.billing\.headers\./);
    }
    expect(failure(`${MINIMAL}    headers: { X-A: " padded" }\n`).issues).toHaveLength(1);
    expect(failure(`${MINIMAL}    headers: { X-A: a, x-a: b }\n`).issues[0]?.message).toContain('twice');
  });

  it('validates tool names, store kinds and limits', () => {
    expect(failure(`tools:\n  "bad name":\n    upstream: "http://x"\n`).issues[0]).toMatchObject({ path: 'tools.bad name', line: 2 });
    expect(failure(`store: { kind: postgres }\n${MINIMAL}`).issues[0]).toMatchObject({ path: 'store.url', line: 1 });
    expect(failure(`store: { kind: redis, url: "redis://127.0.0.1:6379/0" }\n${MINIMAL}`).issues[0]).toMatchObject({ path: 'store.kind', line: 1 });
    expect(failure(`limits: { max_header_bytes: -1 }\n${MINIMAL}`).issues[0]).toMatchObject({ path: 'limits.max_header_bytes' });
    expect(failure('log: { level: info }\n').issues[0]).toMatchObject({ path: 'tools' });
    expect(failure(`store: { kind: sqlite, ledger_retention: 7 }\n${MINIMAL}`).issues[0]).toMatchObject({ path: 'store.ledger_retention' });
    expect(failure(`store: { kind: sqlite, ledger_retention: forever }\n${MINIMAL}`).issues[0]?.message).toContain('duration');
    expect(loadConfig(write(`store: { kind: memory, ledger_retention: 12h }\n${MINIMAL}`), {}, {}).store).toEqual({ kind: 'memory', ledgerRetentionMs: 12 * 3_600_000 });
  });

  it('reports every issue at once, each with file and line', () => {
    const err = failure(`listen: { data: nope }\nlog: { level: loud }\nextra: 1\n${MINIMAL}`);
    expect(err.issues.map((i) => [i.path, i.line])).toEqual(
      expect.arrayContaining([['listen.data', 1], ['log.level', 2], ['extra', 3]]),
    );
    expect(err.issues.every((i) => i.file.endsWith('epochgate.yaml'))).toBe(true);
  });

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    expect(failure(`${MINIMAL}tools: {}\n`).issues[0]).toMatchObject({ line: 4 });
    expect(failure('listen: [unclosed\n').issues[0]?.line).toBeGreaterThan(0);
  });

  it('reports a missing file as a ConfigError', () => {
    expect(() => loadConfig('/nonexistent/epochgate.yaml', {}, {})).toThrow(ConfigError);
  });
});
