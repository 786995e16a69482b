// What every example starts: a recording tool API and the gateway (the built CLI, a temporary SQLite store,
// the example's own policy directory). Build first (`npm run build`); the npm scripts do.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** A tool API that answers every request 200/201 with JSON and records `METHOD path` of each. */
export function startRecordingTool() {
  const seen = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      const status = req.method === 'POST' ? 201 : 200;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, n: seen.length, path: req.url, body: Buffer.concat(chunks).toString() }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ seen, url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) }),
    ),
  );
}

/**
 * Starts `epochgate serve` with a copy of `policiesDir` (so an example may edit its policy while the
 * gateway runs) and `tools` ({name: upstream URL}). Resolves once it is listening.
 */
export async function startGateway(policiesDir, tools) {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-example-'));
  const policies = join(dir, 'policies');
  cpSync(policiesDir, policies, { recursive: true });
  const config = join(dir, 'epochgate.yaml');
  const toolLines = Object.entries(tools).map(([name, url]) => `  ${name}: { upstream: "${url}" }`);
  const lines = ['listen: { data: "127.0.0.1:0", control: "127.0.0.1:0" }', 'tokens: { keys: keys.json }', 'store: { kind: sqlite, path: epochgate.db }'];
  writeFileSync(config, [...lines, 'policies: policies', 'audit: { path: audit.log }', 'log: { level: warn }', 'tools:', ...toolLines, ''].join('\n'));
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const urls = await new Promise((resolve, reject) => {
    const early = (code) => reject(new Error(`the gateway exited ${code} before listening`));
    child.once('exit', early);
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (!line.includes('"listening"')) return;
      child.off('exit', early);
      resolve(JSON.parse(line));
    });
  });
  return {
    dir,
    policies,
    controlUrl: urls.control_url,
    dataUrl: urls.data_url,
    auditFile: join(dir, 'audit.log'),
    reload: () => child.kill('SIGHUP'),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POST JSON; resolves with {status, body, headers}. */
export async function postJson(url, body, token) {
  const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Runs the built CLI with `args`; resolves with its exit code. Output goes to this process's. */
export function epochgate(args, env = {}) {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: 'inherit', env: { ...process.env, ...env } });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}

/** Prints the result line every example ends with, and sets the exit code. */
export function verdict(checks) {
  const failed = Object.entries(checks).filter(([, ok]) => !ok).map(([what]) => what);
  console.log(failed.length === 0 ? '\nexample: every check passed.' : `\nexample: NOT AS EXPECTED: ${failed.join('; ')}`);
  process.exitCode = failed.length === 0 ? 0 : 1;
}
