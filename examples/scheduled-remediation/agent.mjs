// The remediation agent: patches each affected host, verifies it, and checkpoints the verified progress.
// An unmodified agent: it knows only what `epochgate run` puts in its environment. When its scheduled run
// starts with a checkpoint, it continues after the last verified host. The first run loses its node right
// after patching host-3, before it could verify and checkpoint it.
import { readFileSync } from 'node:fs';

const HOSTS = ['host-1', 'host-2', 'host-3', 'host-4'];
const env = process.env;
const token = () => readFileSync(env.EPOCHGATE_TOKEN_FILE, 'utf8').trim();
const checkpoint = env.EPOCHGATE_CHECKPOINT_FILE ? JSON.parse(readFileSync(env.EPOCHGATE_CHECKPOINT_FILE, 'utf8')) : null;
const verified = checkpoint?.state?.verified ?? [];
console.log(`agent: epoch ${env.EPOCHGATE_EPOCH}; ${checkpoint ? `last verified checkpoint: ${verified.join(', ')}` : 'no checkpoint: a fresh run'}`);

async function call(method, url, body) {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res;
}

for (const host of HOSTS.filter((h) => !verified.includes(h))) {
  const patched = await call('POST', `${env.EPOCHGATE_TOOL_URL_FLEET}/hosts/${host}/patch`, { package: 'openssl', version: '3.0.15' });
  const replayed = patched.headers.get('idempotent-replayed') === 'true';
  console.log(`agent: patch ${host}: ${patched.status}${replayed ? ' (already applied before the node was lost: answered from the gateway ledger, not applied twice)' : ''}`);
  if (checkpoint === null && host === 'host-3') {
    console.log('agent: the node is lost');
    process.kill(process.pid, 'SIGKILL');
  }
  await call('GET', `${env.EPOCHGATE_TOOL_URL_FLEET}/hosts/${host}`);
  verified.push(host);
  await call('POST', `${env.EPOCHGATE_CONTROL_URL}/v1/sessions/${env.EPOCHGATE_SESSION_ID}/checkpoints`, { label: `${host} verified`, state: { verified } });
  console.log(`agent: ${host} verified, checkpoint recorded`);
}
console.log('agent: remediation complete');
