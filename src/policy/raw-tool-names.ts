// Tool-name check for a policy file that failed its schema: `policy check` reports every error at once
// (SPEC §3, §15), so a rule naming an unknown tool is reported together with the file's schema errors
// instead of only after they are fixed. Reads the raw document defensively: it is not validated.
import { at, type FileIssue, type LineLocator } from '../config/file-issues.js';

export function rawToolNameIssues(display: string, value: unknown, locate: LineLocator, toolNames: ReadonlySet<string>): FileIssue[] {
  const issues: FileIssue[] = [];
  const rules = (value as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) return issues;
  rules.forEach((rule: unknown, i) => {
    const tools = (rule as { tools?: unknown } | null)?.tools;
    if (!Array.isArray(tools)) return;
    tools.forEach((tool: unknown, j) => {
      if (typeof tool === 'string' && !toolNames.has(tool)) issues.push(at(display, ['rules', i, 'tools', j], locate, `tool "${tool}" is not defined in the operator config`));
    });
  });
  return issues;
}
