// YAML → plain data, keeping source positions so every load error can name its line (SPEC §2, §3).
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { at, type FileIssue, type KeyPath, type LineLocator } from './file-issues.js';

export interface YamlSource {
  /** The document as plain data (undefined when it failed to parse). */
  readonly value: unknown;
  readonly locate: LineLocator;
  /** Syntax errors, duplicate keys, multiple documents. */
  readonly issues: readonly FileIssue[];
}

export function parseYaml(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema: no implicit timestamps or yes/no booleans, so a value is what it looks like.
  // uniqueKeys: a key given twice is an error, never "the last one wins" (DESIGN rule 4).
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, version: '1.2' });
  const lineOf = (offset: number | undefined): number | undefined => (offset === undefined ? undefined : lineCounter.linePos(offset).line);
  const locate: LineLocator = (path) => lineOf(findOffset(doc, path));
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((err) => {
      const line = lineOf(err.pos[0]);
      const message = err.message.split('\n')[0] ?? err.message;
      return line === undefined ? { file, path: '', message } : { file, path: '', line, message };
    });
    return { value: undefined, locate, issues };
  }
  try {
    // maxAliasCount bounds alias expansion ("billion laughs").
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    const issues = reservedKeys(value).map((path) => at(file, path, locate, 'the key name __proto__ is reserved'));
    return { value: issues.length > 0 ? undefined : value, locate, issues };
  } catch (err) {
    return { value: undefined, locate, issues: [{ file, path: '', message: (err as Error).message }] };
  }
}

/**
 * Paths of every `__proto__` key. Validation would not see them: zod records skip that key, and a copy made
 * with `obj[key] = value` turns it into the copy's prototype. Either way an entry the author wrote (an agent,
 * a person, a header) would vanish without an error, so the file is refused instead.
 */
function reservedKeys(value: unknown, path: KeyPath = []): KeyPath[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => reservedKeys(item, [...path, i]));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) => [...(key === '__proto__' ? [[...path, key]] : []), ...reservedKeys(item, [...path, key])]);
}

/**
 * Offset of the node at `path`: for a map key, the key itself (so an unknown key is reported on its own
 * line); when the path leaves the document (a missing key), the deepest node that exists.
 */
function findOffset(doc: Document, path: KeyPath): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(part));
      if (!pair) return offset;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part];
      if (item === undefined) return offset;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
