// The agent credential `epochgate run` presents on create, resume and token refresh (SPEC §4). A secret is
// read once from its environment variable, which is then removed from this process's environment, so no
// child (the agent, an assertion command) inherits it. An assertion is asked for afresh every time: its
// `jti` is single use, so one assertion can never serve two requests.
import { spawn } from 'node:child_process';

export type CredentialFields = { readonly client_secret: string } | { readonly client_assertion: string };

export interface AgentCredential {
  /** Fields for a control-plane body; throws with a message fit for the user (never the credential). */
  fields(): Promise<CredentialFields>;
}

const ASSERTION_TIMEOUT_MS = 30_000;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Reads and removes the variable; a string is a usage message when it is unset or empty. */
export function secretFromEnv(variable: string, env: NodeJS.ProcessEnv): AgentCredential | string {
  const secret = env[variable];
  delete env[variable];
  if (secret === undefined || secret === '') return `environment variable ${variable} (--secret-env) is not set`;
  return { fields: async () => ({ client_secret: secret }) };
}

export function assertionFromCommand(command: string, env: NodeJS.ProcessEnv): AgentCredential {
  return { fields: async () => ({ client_assertion: await runAssertionCommand(command, env) }) };
}

function runAssertionCommand(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    // A shell command by design: operators write `--assertion-cmd "vault read -field=jwt …"`.
    const child = spawn(command, { shell: true, env, stdio: ['ignore', 'pipe', 'inherit'], timeout: ASSERTION_TIMEOUT_MS });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', (err) => reject(new Error(`--assertion-cmd could not start: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code !== 0) return reject(new Error(`--assertion-cmd failed (${signal ?? `exit ${code}`})`));
      const assertion = Buffer.concat(chunks).toString('utf8').trim();
      // Checked only for shape, and never echoed: what it printed may be a credential.
      if (!COMPACT_JWS.test(assertion)) return reject(new Error('--assertion-cmd did not print one compact JWT'));
      resolve(assertion);
    });
  });
}
