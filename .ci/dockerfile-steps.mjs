#!/usr/bin/env node
// Docker cannot run on our CI machines, so this executes the Dockerfile's own steps without Docker:
// each stage gets a directory standing in for its filesystem, COPY/RUN/WORKDIR/ENV run as written
// (with /app mapped into the stage directory), then the runtime stage's ENTRYPOINT + CMD is started
// (ports moved to 0 on loopback) and must answer /readyz on both listeners and exit 0 on SIGTERM.
// Skipped, with the reason printed: apt-get (the toolchain is already on the machine), chown (root
// only, and there is no user namespace here), USER (the stages run as whoever runs this script), and the
// base images (the steps run on this machine's Node, not the image's). The closing line names each of them
// as not checked, so it never claims more than was executed.
import { execSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const context = resolve(new URL('..', import.meta.url).pathname);
const root = mkdtempSync(join(tmpdir(), 'epochgate-image-'));
const lines = readFileSync(join(context, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const stages = new Map();
let stage;
let cwd;
const env = { ...process.env };
let entrypoint = [];
let cmd = [];
/** What the Dockerfile says that this script does not execute, for the closing line. */
const unchecked = new Set();
const appPath = (p) => (p.startsWith('/app') ? join(stage, p) : join(cwd, p));

for (const line of lines) {
  const [instruction, ...rest] = line.split(/\s+/);
  const args = rest.join(' ');
  switch (instruction) {
    case 'FROM': {
      const name = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? `stage${stages.size}`;
      unchecked.add(`base image ${args.split(/\s+/)[0]} (its Node version; ran on Node ${process.version})`);
      stage = join(root, name);
      mkdirSync(stage, { recursive: true });
      stages.set(name, stage);
      cwd = stage;
      break;
    }
    case 'WORKDIR':
      cwd = appPath(args);
      mkdirSync(cwd, { recursive: true });
      break;
    case 'ENV': {
      const [key, value] = args.split('=');
      env[key] = value;
      break;
    }
    case 'COPY': {
      const from = /^--from=(\S+)\s+/.exec(args);
      const parts = args.replace(/^--from=\S+\s+/, '').split(/\s+/);
      const dest = parts.pop();
      for (const src of parts) {
        const source = from ? join(stages.get(from[1]), src.startsWith('/') ? src : join('app', src)) : join(context, src);
        const target = dest.endsWith('/') || parts.length > 1 ? join(appPath(dest), src.split('/').pop()) : appPath(dest);
        cpSync(source, target, { recursive: true });
      }
      break;
    }
    case 'RUN': {
      const all = args.split('&&').map((c) => c.trim());
      for (const c of all) if (/^(apt-get|chown)\s/.test(c)) unchecked.add(c.split(/\s+/).slice(0, 3).join(' '));
      const commands = all.filter((c) => !/^(apt-get|rm -rf \/var\/lib\/apt)/.test(c));
      const kept = commands.map((c) => c.replace(/^chown\s.*$/, 'true').replaceAll('/app', join(stage, 'app')));
      if (kept.length === 0) {
        console.log(`skip: RUN ${args}`);
        break;
      }
      console.log(`run:  ${kept.join(' && ')}`);
      execSync(kept.join(' && '), { cwd, env: { ...env, NODE_ENV: instruction === 'RUN' ? env.NODE_ENV : undefined }, stdio: 'inherit', shell: '/bin/bash' });
      break;
    }
    case 'ENTRYPOINT':
      entrypoint = JSON.parse(args);
      break;
    case 'CMD':
      cmd = JSON.parse(args);
      break;
    case 'USER':
      unchecked.add(`USER ${args} (ran as uid ${process.getuid?.()})`);
      console.log(`note: ${instruction} ${args}`);
      break;
    default:
      console.log(`note: ${instruction} ${args}`);
  }
}

const argv = [...entrypoint, ...cmd].map((a) => a.replace(/^0\.0\.0\.0:\d+$/, '127.0.0.1:0'));
console.log(`start: ${argv.join(' ')} (in the runtime stage, ports moved to 0)`);
const child = spawn(argv[0] === 'node' ? process.execPath : argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
const timer = setTimeout(() => fail('no listening line within 20 s'), 20_000);
function fail(message) {
  console.error(`dockerfile-steps: ${message}`);
  child.kill('SIGKILL');
  process.exit(1);
}
createInterface({ input: child.stderr }).on('line', async (line) => {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return;
  }
  if (entry.msg !== 'listening') return;
  clearTimeout(timer);
  for (const url of [entry.data_url, entry.control_url]) {
    const res = await fetch(`${url}/readyz`);
    if (res.status !== 200) fail(`${url}/readyz answered ${res.status}`);
  }
  child.kill('SIGTERM');
  child.once('exit', (code) => {
    rmSync(root, { recursive: true, force: true });
    if (code !== 0) fail(`exit code ${code} after SIGTERM`);
    console.log('dockerfile-steps: the build and runtime stages ran without Docker: built, started, answered /readyz on both listeners, exited 0 on SIGTERM');
    console.log(`dockerfile-steps: not checked: ${[...unchecked].join('; ')}`);
  });
});
