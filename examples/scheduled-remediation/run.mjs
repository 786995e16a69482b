// Story (d): a scheduled remediation agent resumes mid-run from its last verified checkpoint and makes no
// duplicate change. One command: `npm run example:remediation`.
// The scheduler (here: this script, twice) starts `epochgate run --task remediation-2026-12-01 -- node
// agent.mjs`. The first run's node is lost mid-run, so its launcher ends too and the session is left
// resumable. The next scheduled run, with the same task id, finds the open session (session_exists),
// resumes it (new epoch, identity and scope checked again) and hands the agent the last verified checkpoint.
// The change the lost node had already applied is answered from the gateway's ledger.
import { fileURLToPath } from 'node:url';
import { epochgate, startGateway, startRecordingTool, verdict } from '../lib/harness.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SECRET = 'demo-remediation-bot-secret'; // DEMO ONLY, matches policies/remediation.yaml

const fleet = await startRecordingTool();
const gateway = await startGateway(`${HERE}policies`, { fleet: `${fleet.url}/api` });
const scheduledRun = (n) => {
  console.log(`\n[scheduler] run ${n}: epochgate run --agent remediation-bot --secret-env REMEDIATION_BOT_SECRET --task remediation-2026-12-01 -- node agent.mjs`);
  return epochgate(
    ['run', '--agent', 'remediation-bot', '--secret-env', 'REMEDIATION_BOT_SECRET', '--task', 'remediation-2026-12-01', '--control', gateway.controlUrl, '--', process.execPath, `${HERE}agent.mjs`],
    { REMEDIATION_BOT_SECRET: SECRET },
  );
};
try {
  const first = await scheduledRun(1);
  const second = await scheduledRun(2);
  const patches = fleet.seen.filter((line) => line.startsWith('POST'));
  console.log(`\nthe fleet API received these changes:\n  ${patches.join('\n  ')}`);
  verdict({
    'the first run was cut short (exit 137)': first === 137,
    'the second run finished (exit 0)': second === 0,
    'every host was patched exactly once': patches.length === 4 && new Set(patches).size === 4,
  });
} finally {
  await gateway.stop();
  await fleet.close();
}
