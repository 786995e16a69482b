// The gateway the bench measures: the shape of a real deployment (SQLite store with synchronous=full,
// hash-chained audit to a file, warn-level log) with one HTTP tool and one MCP tool on the bench upstream,
// and a policy allowing exactly the bench's calls. The orders/payments rule is side-effecting (SPEC §10);
// the MCP echo tool is a read (side_effects: false), so the MCP figure is the cost of MCP handling alone.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../util/hash.js';

export const BENCH_AGENT = 'bench-bot';
/** A bench-only secret for a throw-away policy in a temporary directory. */
export const BENCH_SECRET = 'bench-only-not-a-secret';

const POLICY = (secretSha: string): string => `apiVersion: epochgate/v1
kind: Policy
agents:
  ${BENCH_AGENT}:
    enabled: true
    roles: [bench]
    credentials: [{ type: secret, sha256: "${secretSha}" }]
rules:
  - { id: bench-read, effect: allow, roles: [bench], tools: [api], methods: [GET], paths: ["/small", "/blob"], side_effects: false }
  - { id: bench-write, effect: allow, roles: [bench], tools: [api], methods: [POST], paths: ["/orders", "/payments"], side_effects: true }
  - { id: bench-mcp, effect: allow, roles: [bench], tools: [mcp], mcp_tools: ["echo"], side_effects: false }
sessions: { token_ttl: 1h, lease_ttl: 1h, max_age: 24h }
`;

/** The store line: SQLite by default; BENCH_STORE_URL (a postgres:// URL of an empty database the bench may
 *  fill) measures the PostgreSQL store instead. */
function storeLine(): string {
  const url = process.env.BENCH_STORE_URL;
  if (url === undefined || url === '') return 'store: { kind: sqlite, path: epochgate.db, synchronous: full }';
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('BENCH_STORE_URL must be a postgres:// URL');
  return `store: { kind: postgres, url: ${JSON.stringify(url)} }`;
}

/** Writes `epochgate.yaml` and its policy directory into dir; returns the config file's path. */
export function writeBenchConfig(dir: string, upstreamOrigin: string): string {
  mkdirSync(join(dir, 'policies'), { recursive: true });
  writeFileSync(join(dir, 'policies', 'bench.yaml'), POLICY(sha256Hex(BENCH_SECRET)));
  const file = join(dir, 'epochgate.yaml');
  writeFileSync(
    file,
    [
      'listen: { data: "127.0.0.1:0", control: "127.0.0.1:0" }',
      'tokens: { keys: keys.json }',
      storeLine(),
      'policies: policies',
      'audit: { path: audit.log }',
      'log: { level: warn }',
      'tools:',
      `  api: { upstream: "${upstreamOrigin}/api" }`,
      `  mcp: { upstream: "${upstreamOrigin}/mcp", protocol: mcp }`,
      '',
    ].join('\n'),
  );
  return file;
}

export interface BenchSession {
  readonly sessionId: string;
  readonly epoch: number;
  readonly token: string;
}

/** A new session through the control plane, as an agent launcher would create one. */
export async function createBenchSession(controlUrl: string, task?: string): Promise<BenchSession> {
  const res = await fetch(`${controlUrl}/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ agent_id: BENCH_AGENT, client_secret: BENCH_SECRET, ...(task ? { task_id: task } : {}) }),
  });
  const body = (await res.json()) as { token?: string; session_id?: string; epoch?: number; session?: { session_id?: string; epoch?: number } };
  if (res.status !== 201 && res.status !== 200) throw new Error(`session create answered ${res.status}: ${JSON.stringify(body)}`);
  const sessionId = body.session_id ?? body.session?.session_id;
  const epoch = body.epoch ?? body.session?.epoch;
  if (!body.token || !sessionId || !epoch) throw new Error(`unexpected session create answer: ${JSON.stringify(body)}`);
  return { sessionId, epoch, token: body.token };
}
