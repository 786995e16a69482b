// Story (b): a long-running workflow continues after its container is replaced, from its checkpoint,
// without repeating side effects. One command: `npm run example:workflow`.
// The agent (agent.mjs) runs under `epochgate run --restart 2` and is killed mid-run once; the launcher
// resumes the session (a new epoch: the dead process's token is refused from then on) and restarts it
// with the latest checkpoint. The reminder it repeats is answered from the gateway's ledger.
// Exits 0 only if every reminder reached the tool exactly once.
import { fileURLToPath } from 'node:url';
import { epochgate, startGateway, startRecordingTool, verdict } from '../lib/harness.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SECRET = 'demo-workflow-bot-secret'; // DEMO ONLY, matches policies/workflow.yaml

const mailer = await startRecordingTool();
const gateway = await startGateway(`${HERE}policies`, { mailer: `${mailer.url}/api` });
try {
  console.log('$ epochgate run --agent workflow-bot --secret-env WORKFLOW_BOT_SECRET --task reminders-2026-12 --restart 2 -- node agent.mjs');
  const code = await epochgate(
    ['run', '--agent', 'workflow-bot', '--secret-env', 'WORKFLOW_BOT_SECRET', '--task', 'reminders-2026-12', '--control', gateway.controlUrl, '--restart', '2', '--', process.execPath, `${HERE}agent.mjs`],
    { WORKFLOW_BOT_SECRET: SECRET },
  );
  console.log(`\nepochgate run exited ${code}; the mailer received:\n  ${mailer.seen.join('\n  ')}`);
  verdict({
    'the workflow finished (exit 0)': code === 0,
    'every reminder reached the tool exactly once': mailer.seen.length === 5 && new Set(mailer.seen).size === 5,
  });
} finally {
  await gateway.stop();
  await mailer.close();
}
