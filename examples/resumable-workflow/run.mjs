// One command: `npm run example:workflow` (or `node examples/resumable-workflow/run.mjs` after
// `npm run build`). Starts a "mailer" tool API, the gateway (built CLI, temporary SQLite store, this
// example's policy) and `epochgate run --restart 2 -- node agent.mjs`. The agent is killed mid-run once;
// the launcher resumes the session (new epoch), restarts it with the latest checkpoint, and the reminder
// it repeats is answered from the gateway's ledger. Exits 0 only if every reminder reached the tool once.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const SECRET = 'demo-workflow-bot-secret'; // DEMO ONLY, matches policies/workflow.yaml

function startMailer() {
  const sent = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      sent.push(req.url);
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ queued: req.url, n: sent.length }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, sent, url: `http://127.0.0.1:${server.address().port}` })));
}

function startGateway(dir, mailerUrl) {
  const config = join(dir, 'epochgate.yaml');
  writeFileSync(config, [
    'listen: { data: "127.0.0.1:0", control: "127.0.0.1:0" }',
    'tokens: { keys: keys.json }',
    'store: { kind: sqlite, path: epochgate.db }',
    `policies: ${JSON.stringify(join(HERE, 'policies'))}`,
    'audit: { path: audit.log }',
    'log: { level: warn }',
    'tools:',
    `  mailer: { upstream: "${mailerUrl}/api" }`,
    '',
  ].join('\n'));
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}`)));
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (!line.includes('"listening"')) return;
      resolve({ child, controlUrl: JSON.parse(line).control_url });
    });
  });
}

function launch(controlUrl) {
  const args = [MAIN, 'run', '--agent', 'workflow-bot', '--secret-env', 'WORKFLOW_BOT_SECRET', '--task', 'reminders-2026-12',
    '--control', controlUrl, '--restart', '2', '--', process.execPath, join(HERE, 'agent.mjs')];
  console.log('$ epochgate run --agent workflow-bot --secret-env WORKFLOW_BOT_SECRET --task reminders-2026-12 --restart 2 -- node agent.mjs');
  const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, WORKFLOW_BOT_SECRET: SECRET } });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const dir = mkdtempSync(join(tmpdir(), 'epochgate-example-'));
const mailer = await startMailer();
const gateway = await startGateway(dir, mailer.url);
let ok = false;
try {
  const code = await launch(gateway.controlUrl);
  console.log(`\nepochgate run exited ${code}; the mailer received:\n  ${mailer.sent.join('\n  ')}`);
  const unique = new Set(mailer.sent);
  ok = code === 0 && mailer.sent.length === 5 && unique.size === 5;
  console.log(ok ? 'example: every reminder was sent exactly once, across a crash and a restart.' : 'example: NOT AS EXPECTED');
} finally {
  gateway.child.removeAllListeners('exit');
  gateway.child.kill('SIGTERM');
  await new Promise((resolve) => gateway.child.once('exit', resolve));
  mailer.server.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
