// The user's reference lives in docs/ and the README (DESIGN: docs/). These tests keep it honest: every
// key the config and policy schemas accept is documented, the documented examples validate, and nothing
// sends a reader to a file outside the repository.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configFileSchema } from '../../src/config/schema.js';
import { policyFileSchema } from '../../src/policy/schema.js';
import { schemaKeys } from '../helpers/schema-keys.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The first fenced block of a language in a markdown text. */
function firstBlock(markdown: string, lang: string): string {
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(markdown);
  if (!match) throw new Error(`no ${lang} block`);
  return match[1]!;
}

describe('docs', () => {
  it('documents every operator config key the schema accepts (docs/configuration.md)', () => {
    const doc = read('docs/configuration.md');
    const keys = schemaKeys(configFileSchema, { tools: '<name>' });
    expect(keys.length).toBeGreaterThan(30);
    expect(keys.filter((key) => !doc.includes(`\`${key}\``))).toEqual([]);
  });

  it('documents every policy key the schema accepts, jwt credential fields and MCP selectors included (docs/policy.md)', () => {
    const doc = read('docs/policy.md');
    const keys = schemaKeys(policyFileSchema, { agents: '<id>', people: '<id>' });
    for (const key of ['agents.<id>.credentials[].jwks_url', 'rules[].mcp_tools', 'rules[].mcp_methods', 'rules[].mcp_resources', 'rules[].mcp_prompts']) {
      expect(keys).toContain(key);
    }
    expect(keys.filter((key) => !doc.includes(`\`${key}\``))).toEqual([]);
  });

  it('shows examples that the schemas accept', () => {
    const config = configFileSchema.safeParse(parseYaml(firstBlock(read('docs/configuration.md'), 'yaml')));
    expect(config.success ? [] : config.error.issues).toEqual([]);
    const policy = policyFileSchema.safeParse(parseYaml(firstBlock(read('docs/policy.md'), 'yaml')));
    expect(policy.success ? [] : policy.error.issues).toEqual([]);
  });

  it.each(DOCS)('%s refers to no file outside the repository, and its relative links resolve', (file) => {
    const text = read(file);
    expect(text).not.toMatch(/SPEC|§|shared folder/);
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      expect(existsSync(resolve(dirname(join(ROOT, file)), target!)), `${file} → ${target}`).toBe(true);
    }
  });
});
