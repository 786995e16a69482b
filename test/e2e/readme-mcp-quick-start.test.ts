// The README's MCP quick start must run as written: its shell block is taken from the README and run with
// bash and curl against the sample CRM MCP server (official SDK) and a gateway with the shipped policies.
// Only GW and CP (which the block reads from the environment) point at port-0 listeners instead of the
// documented 8080/8081, so the test never collides with anything else on the machine.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSampleMcp, type SampleMcp } from '../../src/demo/sample-mcp.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The ```sh block of the README's "MCP quick start" section. */
function quickStartScript(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## MCP quick start'));
  const body = section.slice(0, section.indexOf('\n## ', 5));
  const match = /```sh\n([\s\S]*?)```/.exec(body);
  if (!match) throw new Error('README: no sh block in "MCP quick start"');
  return match[1]!;
}

describe('e2e: the README MCP quick start', () => {
  let crm: SampleMcp;
  let t: TestGateway;
  beforeAll(async () => {
    // The mode `npm run sample-tool` serves by default.
    crm = await startSampleMcp({ stateless: true, json: true });
    const dir = mkdtempSync(join(tmpdir(), 'epochgate-readme-'));
    mkdirSync(join(dir, 'policies'));
    // The helper writes its own main.yaml unless one exists: the shipped billing.yaml takes its place.
    copyFileSync(join(ROOT, 'policies', 'billing.yaml'), join(dir, 'policies', 'main.yaml'));
    copyFileSync(join(ROOT, 'policies', 'crm.yaml'), join(dir, 'policies', 'crm.yaml'));
    const base = crm.url.replace(/\/mcp$/, '');
    t = await startTestGateway({ upstreamUrl: base, crmUrl: base, dir });
  });
  afterAll(async () => {
    await t?.close();
    await crm?.close();
  });

  it('runs as written and shows each behaviour it describes', async () => {
    const { stdout } = await promisify(execFile)('bash', ['-e', '-o', 'pipefail', '-c', quickStartScript()], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', GW: t.data, CP: t.control },
      timeout: 30_000,
    });
    const lines = stdout.split('\n');
    const line = (needle: string) => lines.find((l) => l.includes(needle)) ?? '';
    // 1. filtered lists
    expect(line('"tools":[')).toContain('"add_note"');
    expect(line('"tools":[')).not.toContain('delete_customer');
    expect(line('"resources":[')).toContain('crm://customers/1');
    expect(line('"resources":[')).not.toContain('crm://internal');
    expect(line('"prompts":[')).toContain('summarise_customer');
    expect(line('"prompts":[')).not.toContain('export_everything');
    // 2–4. allowed and refused calls, resources and prompts
    expect(stdout).toContain('"text":"[\\"1\\"]"');
    expect(line('"id":5')).toMatch(/"isError":true/);
    expect(line('"id":5')).toContain('Policy denies this call');
    expect(line('"id":6')).toContain('Ada Lovelace');
    expect(line('"id":7')).toContain('"code":-31001');
    expect(line('"id":8')).toContain('"code":-31001');
    // 5–6. strict parsing, HTTP-level rules
    expect(stdout).toContain('"code":-32700');
    expect(stdout).toContain('"rule_id":"crm-never-admin"');
    expect(lines.filter((l) => l.includes('"code":"policy_denied"') && !l.includes('"jsonrpc"'))).toHaveLength(2);
    // 7. approval, then the approved call runs
    expect(stdout).toContain('"state":"approved"');
    expect(stdout).toContain('customer 1 now ada@new.example');
    // 8. replay after resume: the recorded note, not a second one
    const notes = lines.filter((l) => l.includes('added to customer 2'));
    expect(notes).toHaveLength(2);
    expect(notes[1]).toBe(notes[0]);
    expect(stdout.toLowerCase()).toContain('idempotent-replayed: true');
    // 9. the CLI
    expect(stdout).toContain('decision: deny (no rule decided)');
    expect(crm.ran.filter((r) => r.startsWith('tools/call'))).toEqual(['tools/call search_customers', 'tools/call update_customer', 'tools/call add_note']);
  });
});
