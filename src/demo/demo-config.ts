// The operator config the demo and the benchmark run the built gateway with: the shipped policies, a
// temporary SQLite file, audit to a file, and the example's two tools pointed at the sample tool API.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SHIPPED_POLICIES = fileURLToPath(new URL('../../policies', import.meta.url));

/** Writes `epochgate.yaml` into dir and returns its path. */
export function writeDemoConfig(dir: string, toolUrl: string, logLevel = 'warn'): string {
  const file = join(dir, 'epochgate.yaml');
  writeFileSync(
    file,
    [
      'listen: { data: "127.0.0.1:0", control: "127.0.0.1:0" }',
      'tokens: { keys: keys.json }',
      'store: { kind: sqlite, path: epochgate.db }',
      `policies: ${JSON.stringify(SHIPPED_POLICIES)}`,
      'audit: { path: audit.log }',
      `log: { level: ${logLevel} }`,
      'tools:',
      `  billing: { upstream: "${toolUrl}/api", headers: { X-Api-Key: "demo-not-a-secret" } }`,
      `  crm: { upstream: "${toolUrl}/mcp", protocol: mcp }`,
      '',
    ].join('\n'),
  );
  return file;
}
