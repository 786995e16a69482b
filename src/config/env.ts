// SPEC §2: `${NAME}` in a string value is replaced by environment variable NAME at load; a missing
// variable is a start-up error, never an empty string. Values may be secrets: they are never put in an
// issue message, only the variable's name and the key path.
import type { KeyPath } from './file-issues.js';

export interface EnvIssue {
  readonly path: KeyPath;
  readonly message: string;
}

const REFERENCE = /\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A copy of `value` with every `${NAME}` in string values (not keys) substituted. */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, issues: EnvIssue[], path: KeyPath = []): unknown {
  if (typeof value === 'string') return substituteString(value, env, issues, path);
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, issues, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteEnv(item, env, issues, [...path, key]);
    return out;
  }
  return value;
}

function substituteString(text: string, env: NodeJS.ProcessEnv, issues: EnvIssue[], path: KeyPath): string {
  if (!text.includes('${')) return text;
  const replaced = text.replace(REFERENCE, (whole, name: string) => {
    if (!NAME.test(name)) {
      // "${A:-default}" and friends look like shell syntax we do not implement; refuse rather than guess.
      issues.push({ path, message: `malformed environment reference "\${${name}}" (expected \${NAME})` });
      return whole;
    }
    const found = env[name];
    if (found === undefined) {
      issues.push({ path, message: `environment variable ${name} is not set` });
      return '';
    }
    return found;
  });
  // An unterminated "${" cannot be a reference; it is almost certainly a typo.
  if (text.replace(REFERENCE, '').includes('${')) issues.push({ path, message: 'unterminated "${" in value' });
  return replaced;
}
