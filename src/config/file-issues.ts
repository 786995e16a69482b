// Load errors that name the file, the key path and, where known, the line (SPEC §2, §3). Shared by the
// operator config loader and the policy loader so `serve` and `policy check` report alike.
import type { z } from 'zod';

export interface FileIssue {
  readonly file: string;
  /** Key path such as "tools.billing.upstream" or "rules[2].paths[0]"; "" for the whole file. */
  readonly path: string;
  readonly line?: number;
  readonly message: string;
}

export type KeyPath = readonly (string | number)[];

/** "rules[2].paths[0]": indices in brackets, keys dotted. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** One line per issue: `file:line: key.path: message` (line and path omitted when unknown/empty). */
export function formatIssue(issue: FileIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

export function formatIssues(issues: readonly FileIssue[]): string {
  return issues.map(formatIssue).join('\n');
}

/** Finds the line of a key path in the source document (undefined when not known). */
export type LineLocator = (path: KeyPath) => number | undefined;

/**
 * zod issues → file issues. Messages are zod's or our own schema messages; none of them echo the input
 * value, so a secret substituted from the environment never reaches an error message (SPEC §2).
 */
export function zodIssues(file: string, error: z.core.$ZodError, locate: LineLocator): FileIssue[] {
  const out: FileIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const keyPath = [...path, key];
        out.push(at(file, keyPath, locate, 'unknown key'));
      }
    } else if (issue.code === 'invalid_key') {
      const inner = issue.issues[0]?.message ?? issue.message;
      out.push(at(file, path, locate, `invalid name: ${inner}`));
    } else {
      out.push(at(file, path, locate, issue.message));
    }
  }
  return out;
}

export function at(file: string, path: KeyPath, locate: LineLocator, message: string): FileIssue {
  const line = locate(path);
  return line === undefined ? { file, path: formatKeyPath(path), message } : { file, path: formatKeyPath(path), line, message };
}
