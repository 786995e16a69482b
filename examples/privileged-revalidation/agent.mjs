// The privileged ops agent: it uses whatever tools its session holds, and tries the database even when it
// no longer holds it (the way a stale plan would), so the example shows the gateway refusing that.
import { readFileSync } from 'node:fs';

const env = process.env;
const token = () => readFileSync(env.EPOCHGATE_TOKEN_FILE, 'utf8').trim();
const tools = Object.keys(env).filter((k) => k.startsWith('EPOCHGATE_TOOL_URL_')).map((k) => k.slice('EPOCHGATE_TOOL_URL_'.length).toLowerCase()).sort();
console.log(`agent: epoch ${env.EPOCHGATE_EPOCH}, scope [${tools.join(', ')}]`);
const call = async (url) => {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' }, body: '{}' });
  return `${res.status}${res.ok ? '' : ` ${(await res.json()).code}`}`;
};
console.log(`agent: note on ticket INC-77: ${await call(`${env.EPOCHGATE_TOOL_URL_TICKETS}/tickets/INC-77/notes`)}`);
// The database URL is the tickets URL's sibling on the gateway (…/tools/db), held in scope or not.
const db = env.EPOCHGATE_TOOL_URL_DB ?? env.EPOCHGATE_TOOL_URL_TICKETS.replace(/\/tools\/tickets$/, '/tools/db');
const vacuum = await call(`${db}/maintenance/vacuum`);
console.log(`agent: database maintenance: ${vacuum}`);
if (env.EPOCHGATE_EPOCH === '1') {
  console.log("agent: the agent's node is lost");
  process.kill(process.pid, 'SIGKILL');
}
process.exitCode = vacuum.startsWith('2') ? 0 : 1;
