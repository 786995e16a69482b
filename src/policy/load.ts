// Reads a policy directory into one revision (SPEC §3): every *.yaml except *.test.yaml, sorted by name,
// validated completely (every file, every error) before anything is built — a directory with any error
// yields no snapshot at all, so a bad file is never partly applied.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { rawToolNameIssues } from './raw-tool-names.js';
import { at, formatIssue, formatIssues, type FileIssue } from '../config/file-issues.js';
import { readYamlFile } from '../config/yaml-file.js';
import { sha256Hex } from '../util/hash.js';
import { buildSnapshot, checkPolicyFiles, type ValidPolicyFile } from './compile.js';
import { policyFileSchema } from './schema.js';
import type { PolicySnapshot } from './types.js';

export interface PolicyLoadOptions {
  /** Tool names from the operator config; when given, a rule naming another tool is an error. */
  readonly toolNames?: ReadonlySet<string>;
  /** Load time (ms), recorded as snapshot.loadedAt. */
  readonly now: number;
}

export interface PolicyValidation {
  readonly snapshot?: PolicySnapshot;
  readonly issues: readonly FileIssue[];
  readonly warnings: readonly FileIssue[];
  /** False when no tool list was given (SPEC §3: `policy check` says tool names were not checked). */
  readonly toolNamesChecked: boolean;
  /** The policy files considered (base names, sorted). */
  readonly files: readonly string[];
}

/** The policy directory failed validation; nothing from it was applied. */
export class PolicyError extends Error {
  readonly issues: readonly FileIssue[];
  readonly files: readonly string[];

  constructor(issues: readonly FileIssue[], files: readonly string[]) {
    super(`invalid policy:\n${formatIssues(issues)}`);
    this.name = 'PolicyError';
    this.issues = Object.freeze([...issues]);
    this.files = Object.freeze([...files]);
  }
}

/** Loads the directory or throws PolicyError listing every problem. */
export async function loadPolicyDir(dir: string, options: PolicyLoadOptions): Promise<PolicySnapshot> {
  const result = await validatePolicyDir(dir, options);
  if (!result.snapshot) throw new PolicyError(result.issues, result.files);
  return result.snapshot;
}

/** Never throws for a bad policy: returns every issue and warning (for `policy check`). */
export async function validatePolicyDir(dir: string, options: PolicyLoadOptions): Promise<PolicyValidation> {
  const toolNamesChecked = options.toolNames !== undefined;
  const issues: FileIssue[] = [];
  const warnings: FileIssue[] = [];
  const listed = await listPolicyFiles(dir, issues, warnings);
  const names = listed ?? [];
  const done = (): PolicyValidation => ({ issues, warnings, toolNamesChecked, files: names });
  if (listed === undefined) return done();
  if (names.length === 0) {
    // An empty directory would mean "deny everything"; far more likely a wrong path. Fail loudly.
    issues.push({ file: dir, path: '', message: 'no policy files (*.yaml) found' });
    return done();
  }

  const { contents, valid } = await readPolicyFiles(dir, names, options, issues);

  // Cross-file checks run over the files that did validate, so one run reports everything.
  const checked = checkPolicyFiles(valid, options.toolNames);
  issues.push(...checked.issues);
  warnings.push(...checked.warnings);
  const jwtKeys = await loadJwtKeys(valid, issues);
  if (issues.length > 0) return done();

  const snapshot = buildSnapshot({
    files: valid,
    revision: policyRevision(contents),
    loadedAt: options.now,
    jwtKeys,
    ...(options.toolNames ? { toolNames: options.toolNames } : {}),
    warnings: warnings.map(formatIssue),
  });
  return { ...done(), snapshot };
}

/** Reads and validates each file on its own; a file that does not parse is listed in issues, not thrown. */
async function readPolicyFiles(dir: string, names: readonly string[], options: PolicyLoadOptions, issues: FileIssue[]) {
  const contents: [string, string][] = [];
  const valid: ValidPolicyFile[] = [];
  for (const name of names) {
    const display = join(dir, name);
    const file = await readYamlFile(display, policyFileSchema, issues);
    if (file.text === undefined) continue;
    contents.push([name, file.text]);
    if (file.valid) valid.push({ name, display, locate: file.valid.locate, data: file.valid.data });
    if (file.invalid && options.toolNames) issues.push(...rawToolNameIssues(display, file.invalid.value, file.invalid.locate, options.toolNames));
  }
  return { contents, valid };
}

/** SPEC §3: the revision is a content hash — SHA-256 over the sorted (file name, content) pairs. */
export function policyRevision(contents: readonly (readonly [string, string])[]): string {
  const sorted = [...contents].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // JSON framing keeps the pairs unambiguous (no name/content boundary can be forged).
  return sha256Hex(JSON.stringify(sorted));
}

async function listPolicyFiles(dir: string, issues: FileIssue[], warnings: FileIssue[]): Promise<string[] | undefined> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    issues.push({ file: dir, path: '', message: `cannot read the policy directory (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
    return undefined;
  }
  const names: string[] = [];
  for (const entry of entries) {
    const name = entry.name;
    // SPEC §3 / §15: *.test.yaml files are policy tests, not policy.
    if (!name.endsWith('.yaml') || name.endsWith('.test.yaml')) {
      if (name.endsWith('.yml')) warnings.push({ file: join(dir, name), path: '', message: 'ignored: only *.yaml files are loaded' });
      continue;
    }
    if (!entry.isFile() && !entry.isSymbolicLink()) continue;
    names.push(name);
  }
  return names.sort();
}

/**
 * Builds a key resolver for every jwt credential. Local JWK sets are read now, so a missing or bad file
 * is a load error; remote ones are fetched lazily by jose and fail closed when unreachable (SPEC §4, §14).
 */
async function loadJwtKeys(files: readonly ValidPolicyFile[], issues: FileIssue[]): Promise<Map<object, JWTVerifyGetKey>> {
  const keys = new Map<object, JWTVerifyGetKey>();
  for (const file of files) {
    for (const [agent, def] of Object.entries(file.data.agents ?? {})) {
      for (const [i, cred] of def.credentials.entries()) {
        if (cred.type !== 'jwt') continue;
        if (cred.jwks_url !== undefined) {
          keys.set(cred, createRemoteJWKSet(new URL(cred.jwks_url)));
          continue;
        }
        const path = ['agents', agent, 'credentials', i, 'jwks_file'];
        // Relative to the policy file, like every path in a file (SPEC §2 convention).
        const jwksPath = resolve(dirname(file.display), cred.jwks_file ?? '');
        const loaded = await loadLocalJwks(jwksPath);
        if (typeof loaded === 'string') issues.push(at(file.display, path, file.locate, loaded));
        else keys.set(cred, loaded);
      }
    }
  }
  return keys;
}

async function loadLocalJwks(path: string): Promise<JWTVerifyGetKey | string> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `cannot read the JWKS file ${path} (${code})` : `the JWKS file ${path} is not valid JSON`;
  }
  const keys = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) return `the JWKS file ${path} has no "keys"`;
  if (!keys.every((key) => key !== null && typeof key === 'object' && typeof (key as { kty?: unknown }).kty === 'string')) {
    return `the JWKS file ${path} holds an entry that is not a JWK`;
  }
  // Private key material has no business in a policy directory; refuse rather than verify with it.
  if (keys.some((key) => key !== null && typeof key === 'object' && 'd' in key)) return `the JWKS file ${path} contains a private key`;
  try {
    return createLocalJWKSet(json as JSONWebKeySet);
  } catch {
    return `the JWKS file ${path} is not a valid JWK set`;
  }
}
