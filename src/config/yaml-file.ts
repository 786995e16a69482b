// Read → parse YAML (with line positions) → validate with a strict zod schema, collecting every issue
// with file, key path and line. Shared by the policy loader and the policy test runner.
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { zodIssues, type FileIssue, type LineLocator } from './file-issues.js';
import { parseYaml } from './yaml-source.js';

export interface YamlFile<T> {
  /** The file's text, when it could be read (even if it is invalid). */
  readonly text?: string;
  /** The validated document, when it is valid. */
  readonly valid?: { readonly data: T; readonly locate: LineLocator };
  /** The parsed but schema-invalid document, so callers can still run checks that need no schema. */
  readonly invalid?: { readonly value: unknown; readonly locate: LineLocator };
}

export async function readYamlFile<S extends z.ZodType>(display: string, schema: S, issues: FileIssue[]): Promise<YamlFile<z.infer<S>>> {
  let text: string;
  try {
    text = await readFile(display, 'utf8');
  } catch (err) {
    issues.push({ file: display, path: '', message: `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
    return {};
  }
  const source = parseYaml(display, text);
  if (source.issues.length > 0) {
    issues.push(...source.issues);
    return { text };
  }
  const parsed = schema.safeParse(source.value);
  if (!parsed.success) {
    issues.push(...zodIssues(display, parsed.error, source.locate));
    return { text, invalid: { value: source.value, locate: source.locate } };
  }
  return { text, valid: { data: parsed.data, locate: source.locate } };
}
