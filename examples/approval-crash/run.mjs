// Story (a): a worker crashes while waiting for human approval and resumes with the same task id, scope and
// approval trail. One command: `npm run example:approval`.
// Run 1: `epochgate run --task refund-4711` starts the worker; its refund needs alice's approval; it
// crashes while waiting. alice approves with `epochgate approvals approve`. Run 2: the same command finds the
// task's open session (session_exists), resumes it (epoch 2), and the worker's repeated refund call goes
// through on the approval given meanwhile: one refund, one approval, one session, all in the audit stream.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { epochgate, startGateway, startRecordingTool, verdict } from '../lib/harness.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
// DEMO ONLY, match policies/refunds.yaml.
const AGENT_SECRET = 'demo-refund-bot-secret';
const ALICE = 'demo-alice-secret';
const ADMIN = 'demo-admin-secret';

const billing = await startRecordingTool();
const gateway = await startGateway(`${HERE}policies`, { billing: `${billing.url}/api` });
const cp = gateway.controlUrl;
const get = async (path, secret) => (await fetch(`${cp}${path}`, { headers: { authorization: `Bearer ${secret}` } })).json();
const worker = (n) => {
  console.log(`\n$ epochgate run --agent refund-bot --secret-env REFUND_BOT_SECRET --task refund-4711 -- node worker.mjs   # run ${n}`);
  return epochgate(['run', '--agent', 'refund-bot', '--secret-env', 'REFUND_BOT_SECRET', '--task', 'refund-4711', '--control', cp, '--', process.execPath, `${HERE}worker.mjs`], { REFUND_BOT_SECRET: AGENT_SECRET });
};
try {
  const first = await worker(1);
  const [pending] = (await get('/v1/approvals?state=pending', ALICE)).approvals;
  console.log(`\n$ EPOCHGATE_TOKEN=<alice's secret> epochgate approvals approve ${pending.approval_id} --comment "INV-42 checked"`);
  const approved = await epochgate(['approvals', 'approve', pending.approval_id, '--comment', 'INV-42 checked', '--url', cp], { EPOCHGATE_TOKEN: ALICE });
  const second = await worker(2);

  const [session] = (await get('/v1/sessions?task_id=refund-4711', ADMIN)).sessions;
  const approval = await get(`/v1/approvals/${pending.approval_id}`, ALICE);
  const trail = readFileSync(gateway.auditFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))
    .filter((r) => r.actor?.session?.uid === session.session_id && /^(session|approval)\./.test(r.api.operation))
    .map((r) => `${r.api.operation} (${r.actor.user?.type === 'person' ? `by ${r.actor.user.uid}` : `epoch ${r.unmapped.epochgate.epoch}`})`);
  console.log(`\nsession ${session.session_id}: ${session.state}, epoch ${session.epoch}, scope [${session.scope}]`);
  console.log(`approval ${approval.approval_id}: ${approval.state}\naudit trail of the session:\n  ${trail.join('\n  ')}`);
  console.log(`the billing API received:\n  ${billing.seen.join('\n  ')}`);
  verdict({
    'run 1 crashed while waiting (exit 137)': first === 137,
    'alice approved (exit 0)': approved === 0,
    'run 2 finished (exit 0)': second === 0,
    'one session for the task, resumed once, same scope': session.epoch === 2 && session.state === 'closed' && session.scope.join() === 'billing',
    'the approval was used once': approval.state === 'consumed',
    'exactly one refund reached the tool': billing.seen.filter((line) => line === 'POST /api/refunds').length === 1,
    'the audit trail holds request, approve, resume and consume': ['approval.request', 'approval.approve', 'session.resume', 'approval.consume'].every((e) => trail.some((t) => t.startsWith(e))),
  });
} finally {
  await gateway.stop();
  await billing.close();
}
