// The workflow of the example: send a payment reminder for each overdue invoice, checkpointing every two.
// It is an unmodified agent: everything it knows comes from the environment `epochgate run` gives it.
// The first run is killed after the third reminder (its container "is replaced"), one step after its
// last checkpoint; the restarted run continues from the checkpoint the gateway returns.
import { readFileSync } from 'node:fs';

const INVOICES = ['INV-1', 'INV-2', 'INV-3', 'INV-4', 'INV-5'];
const env = process.env;
const token = () => readFileSync(env.EPOCHGATE_TOKEN_FILE, 'utf8').trim();
const checkpoint = env.EPOCHGATE_CHECKPOINT_FILE ? JSON.parse(readFileSync(env.EPOCHGATE_CHECKPOINT_FILE, 'utf8')) : null;
const firstRun = checkpoint === null;
const done = checkpoint?.state?.sent ?? 0;
console.log(`agent: epoch ${env.EPOCHGATE_EPOCH}, ${firstRun ? 'no checkpoint: starting' : `checkpoint "${checkpoint.label}": ${done} sent`}`);

async function post(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res;
}

for (let i = done; i < INVOICES.length; i++) {
  const res = await post(`${env.EPOCHGATE_TOOL_URL_MAILER}/reminders/${INVOICES[i]}`, { template: 'overdue' });
  const replayed = res.headers.get('idempotent-replayed') === 'true';
  console.log(`agent: reminder for ${INVOICES[i]}: ${res.status}${replayed ? ' (answered from the gateway ledger: not sent again)' : ''}`);
  if ((i + 1) % 2 === 0) {
    await post(`${env.EPOCHGATE_CONTROL_URL}/v1/sessions/${env.EPOCHGATE_SESSION_ID}/checkpoints`, { label: `${i + 1} sent`, state: { sent: i + 1 } });
    console.log(`agent: checkpoint "${i + 1} sent"`);
  }
  if (firstRun && i === 2) {
    console.log('agent: the container is replaced (killed) after the third reminder');
    process.kill(process.pid, 'SIGKILL');
  }
}
console.log('agent: all reminders sent');
