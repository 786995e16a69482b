// DESIGN "Dependencies point one way": cli → app → {control, pipeline} → {sessions, approvals, ledger, mcp,
// policy, upstream, audit} → store → {errors, util}. Read from the import specifiers of src/**/*.ts (type
// imports too: a type import is still a dependency of the design), checked per folder against the table
// below, so an arrow running back up fails `npm test` instead of waiting for a reviewer.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

// Below the domain: the leaves, the edge helpers both planes share (http), config, the store and metrics.
const FOUNDATION = ['errors', 'util', 'http', 'config', 'store', 'metrics'];
// The domain modules: peers of one another, never above the adapters.
const DOMAIN = ['sessions', 'approvals', 'ledger', 'mcp', 'policy', 'upstream', 'audit', 'live', 'notify'];

/** Folder (or root file, without `.ts`) → the project folders it may import. */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  util: [],
  http: ['errors', 'util'],
  config: ['errors', 'util'],
  // open-store.ts reads the store part of the config type (config/types.ts); nothing else of config.
  store: ['errors', 'util', 'config'],
  metrics: ['store'],
  ...Object.fromEntries(DOMAIN.map((folder) => [folder, [...FOUNDATION, ...DOMAIN.filter((d) => d !== folder)]])),
  // The adapters over the domain; none imports another (the console is mounted by app, not by control).
  control: [...FOUNDATION, ...DOMAIN],
  pipeline: [...FOUNDATION, ...DOMAIN],
  console: [...FOUNDATION, ...DOMAIN],
  app: [...FOUNDATION, ...DOMAIN, 'control', 'pipeline', 'console', 'version', 'app-types', 'wiring'],
  // The start-up phases of the composition root (app.ts runs them in order).
  wiring: [...FOUNDATION, ...DOMAIN, 'control', 'pipeline', 'console', 'version', 'app-types'],
  // The shape of a running gateway, beside the composition root that builds it.
  'app-types': [...FOUNDATION, ...DOMAIN],
  cli: [...FOUNDATION, ...DOMAIN, 'control', 'app', 'app-types', 'version'],
  main: ['cli'],
  version: [],
  // `npm run demo` drives the built CLI over HTTP; it imports only the audit verifier, to check the chain
  // of the story it told.
  demo: ['audit'],
  // `npm run bench` drives the built CLI too, and seeds the ledger-growth curve through the store with the
  // gateway's own fingerprint, so it sits at the top beside the CLI.
  bench: [...FOUNDATION, ...DOMAIN, 'demo'],
};

interface ImportEdge {
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `sessions/lifecycle.ts` → `sessions`; a file at the root (`app.ts`) is its own folder (`app`). */
function folderOf(path: string): string {
  const [first, second] = relative(SRC, path).split(/[\\/]/);
  return second === undefined ? first!.replace(/\.[jt]s$/, '') : first!;
}

const SPECIFIER = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

/** The project-internal imports of one file, as folder → folder edges (same-folder imports omitted). */
export function importEdges(file: string, text: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2] ?? match[3]!;
    if (!specifier.startsWith('.')) continue;
    const target = resolve(dirname(file), specifier);
    const from = folderOf(file);
    const to = folderOf(target);
    if (from !== to) edges.push({ file: relative(SRC, file), from, to });
  }
  return edges;
}

function violations(edges: readonly ImportEdge[]): string[] {
  return edges
    .filter((edge) => !(ALLOWED[edge.from] ?? []).includes(edge.to))
    .map((edge) => `${edge.file} imports ${edge.to}/ (${edge.from} may import: ${(ALLOWED[edge.from] ?? []).join(', ') || 'nothing of the project'})`);
}

describe('import direction (DESIGN "Dependencies point one way")', () => {
  const edges = sourceFiles(SRC).flatMap((file) => importEdges(file, readFileSync(file, 'utf8')));

  it('finds the imports it checks', () => {
    // A parser that found nothing would pass every rule below.
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual({ file: 'wiring/servers.ts', from: 'wiring', to: 'pipeline' });
  });

  it('knows every folder of src/', () => {
    const unknown = [...new Set(edges.flatMap((edge) => [edge.from, edge.to]))].filter((folder) => !(folder in ALLOWED));
    expect(unknown).toEqual([]);
  });

  it('lets no folder import above its layer', () => {
    expect(violations(edges)).toEqual([]);
  });

  it('fails on a domain module importing control/ or pipeline/, and on util/ importing the project', () => {
    const planted = [
      ...importEdges(join(SRC, 'sessions/x.ts'), "import type { ControlContext } from '../control/control-context.js';"),
      ...importEdges(join(SRC, 'ledger/x.ts'), "export { readBody } from '../pipeline/read-body.js';"),
      ...importEdges(join(SRC, 'approvals/x.ts'), "const app = await import('../app.js');"),
      ...importEdges(join(SRC, 'util/x.ts'), "import { GatewayError } from '../errors/gateway-error.js';"),
      ...importEdges(join(SRC, 'errors/x.ts'), "import {\n  sha256Hex,\n} from '../util/hash.js';"),
    ];
    expect(violations(planted)).toHaveLength(5);
  });
});
