// The refund worker: checks the invoice, records a checkpoint, and asks for the refund. A refund needs a
// person's approval; the first worker crashes while it waits for one. The resumed worker (same task, a new
// epoch) repeats the same refund call, which the approval given meanwhile now lets through, once.
import { readFileSync } from 'node:fs';

const env = process.env;
const token = () => readFileSync(env.EPOCHGATE_TOKEN_FILE, 'utf8').trim();
const billing = env.EPOCHGATE_TOOL_URL_BILLING;
const headers = () => ({ authorization: `Bearer ${token()}`, 'content-type': 'application/json' });
const checkpoint = env.EPOCHGATE_CHECKPOINT_FILE ? JSON.parse(readFileSync(env.EPOCHGATE_CHECKPOINT_FILE, 'utf8')) : null;
console.log(`worker: epoch ${env.EPOCHGATE_EPOCH}, ${checkpoint ? `resuming after checkpoint "${checkpoint.label}"` : 'starting'}`);

if (!checkpoint) {
  const invoice = await fetch(`${billing}/invoices/INV-42`, { headers: headers() });
  console.log(`worker: invoice INV-42: ${invoice.status}`);
  const cp = await fetch(`${env.EPOCHGATE_CONTROL_URL}/v1/sessions/${env.EPOCHGATE_SESSION_ID}/checkpoints`, {
    method: 'POST', headers: headers(), body: JSON.stringify({ label: 'invoice checked', state: { invoice: 'INV-42', amount: 120 } }),
  });
  console.log(`worker: checkpoint "invoice checked": ${cp.status}`);
}
const refund = await fetch(`${billing}/refunds`, { method: 'POST', headers: headers(), body: JSON.stringify({ invoice: 'INV-42', amount: 120 }) });
const answer = await refund.json();
if (refund.status === 403 && answer.code === 'approval_required') {
  console.log(`worker: refund needs approval ${answer.approval_id} (rule ${answer.rule_id}); waiting for a person…`);
  console.log('worker: the worker crashes while it waits');
  process.kill(process.pid, 'SIGKILL');
}
console.log(`worker: refund: ${refund.status}`);
process.exitCode = refund.ok ? 0 : 1;
