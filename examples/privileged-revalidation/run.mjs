// Story (c): a privileged agent whose node is lost resumes only after its identity and scope are validated
// again. One command: `npm run example:privileged`.
// Run 1: ops-bot holds the tickets and db tools; its node is lost mid-task. Security then removes its
// db-admin role: run 2 (same task) resumes, but with the scope narrowed to tickets, and the database call
// is refused (scope_exceeded). Security then disables the agent: run 3 cannot resume at all (agent_disabled).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { epochgate, startGateway, startRecordingTool, verdict } from '../lib/harness.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const AGENT_SECRET = 'demo-ops-bot-secret'; // DEMO ONLY, matches policies/ops.yaml
const ADMIN = 'demo-admin-secret';

const tool = await startRecordingTool();
const gateway = await startGateway(`${HERE}policies`, { tickets: `${tool.url}/tickets-api`, db: `${tool.url}/db-api` });
const policyFile = join(gateway.policies, 'ops.yaml');
const run = (n) => {
  console.log(`\n$ epochgate run --agent ops-bot --secret-env OPS_BOT_SECRET --task incident-77 -- node agent.mjs   # run ${n}`);
  return epochgate(['run', '--agent', 'ops-bot', '--secret-env', 'OPS_BOT_SECRET', '--task', 'incident-77', '--control', gateway.controlUrl, '--', process.execPath, `${HERE}agent.mjs`], { OPS_BOT_SECRET: AGENT_SECRET });
};
/** Edits the running gateway's policy and waits (bounded) until the new revision is in force. */
async function editPolicy(what, from, to) {
  const revision = async () => (await (await fetch(`${gateway.controlUrl}/v1/policy`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()).revision;
  const before = await revision();
  writeFileSync(policyFile, readFileSync(policyFile, 'utf8').replace(from, to));
  gateway.reload();
  for (const deadline = Date.now() + 10_000; (await revision()) === before; ) {
    if (Date.now() > deadline) throw new Error('the policy was not reloaded');
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log(`\n[security] ${what}; policy reloaded`);
}
try {
  const first = await run(1);
  await editPolicy("ops-bot loses the db-admin role", 'roles: [ops, db-admin]', 'roles: [ops]');
  const second = await run(2);
  await editPolicy('ops-bot is disabled', 'enabled: true', 'enabled: false');
  const third = await run(3);
  const dbCalls = tool.seen.filter((line) => line.includes('/db-api/'));
  console.log(`\nthe database API received:\n  ${dbCalls.join('\n  ')}`);
  verdict({
    'run 1 lost its node (exit 137)': first === 137,
    'run 2 resumed with the narrowed scope and was refused the database (exit 1)': second === 1,
    'run 3 could not resume: the agent is disabled (exit 1)': third === 1,
    'the database was reached only by run 1': dbCalls.length === 1,
  });
} finally {
  await gateway.stop();
  await tool.close();
}
