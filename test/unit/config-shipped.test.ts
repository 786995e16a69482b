// DESIGN rule 14: everything shipped in config/ and policies/ loads in a test.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { validatePolicyDir } from '../../src/policy/load.js';
import { sha256Hex } from '../../src/util/hash.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG_FILES = readdirSync(join(ROOT, 'config')).filter((name) => name.endsWith('.yaml'));

describe('shipped examples', () => {
  it.each(CONFIG_FILES)('config/%s loads with an empty environment', (name) => {
    expect(() => loadConfig(join(ROOT, 'config', name), {}, {})).not.toThrow();
  });

  it('config/epochgate.yaml is the documented demo', () => {
    const config = loadConfig(join(ROOT, 'config/epochgate.yaml'), {}, {});
    expect(config.listen).toEqual({ data: { host: '127.0.0.1', port: 8080 }, control: { host: '127.0.0.1', port: 8081 } });
    expect(config.store).toEqual({ kind: 'sqlite', path: join(ROOT, 'var/epochgate.db'), synchronous: 'full', ledgerRetentionMs: 7 * 86_400_000 });
    expect(config.tokens.keysPath).toBe(join(ROOT, 'var/keys.json'));
    expect(config.policiesDir).toBe(join(ROOT, 'policies'));
    expect(config.audit.path).toBe(join(ROOT, 'var/audit.log'));
    expect(config.tools.get('billing')).toMatchObject({ protocol: 'http', headers: { 'x-api-key': 'demo-not-a-secret' } });
    expect(config.tools.get('billing')?.upstream.href).toBe('http://127.0.0.1:9001/api');
    expect(config.tools.get('crm')).toMatchObject({ protocol: 'mcp' });
    expect(config.tools.get('crm')?.upstream.href).toBe('http://127.0.0.1:9002/mcp');
  });

  it('every file in policies/ loads against the shipped tools, without errors or warnings', async () => {
    const config = loadConfig(join(ROOT, 'config/epochgate.yaml'), {}, {});
    const result = await validatePolicyDir(config.policiesDir, { now: 0, toolNames: new Set(config.tools.keys()) });
    expect(result.issues).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.toolNamesChecked).toBe(true);
    const all = readdirSync(config.policiesDir).filter((name) => name.endsWith('.yaml') && !name.endsWith('.test.yaml'));
    expect(result.snapshot?.files).toEqual(all.sort());
  });

  it('the demo policy accepts the documented demo secrets and decides as documented', async () => {
    const config = loadConfig(join(ROOT, 'config/epochgate.yaml'), {}, {});
    const { snapshot } = await validatePolicyDir(config.policiesDir, { now: 0, toolNames: new Set(config.tools.keys()) });
    const bot = snapshot!.agents.get('billing-bot')!;
    expect(bot.credentials).toContainEqual({ type: 'secret', sha256: sha256Hex('demo-billing-bot-secret') });
    expect(snapshot!.people.get('alice')).toEqual({ id: 'alice', roles: ['finance-approver'], secretSha256: [sha256Hex('demo-alice-secret')] });
    expect(snapshot!.people.get('sec-admin')).toEqual({ id: 'sec-admin', roles: ['admin'], secretSha256: [sha256Hex('demo-admin-secret')] });
    const ask = (method: string, tool: string, path: string, mcpTool?: string) =>
      snapshot!.evaluate({ agentId: 'billing-bot', roles: bot.roles, tool, method, path, ...(mcpTool ? { mcpTool } : {}) }).rule?.id ?? null;
    expect(ask('GET', 'billing', '/invoices/42')).toBe('billing-read');
    expect(ask('POST', 'billing', '/refunds')).toBe('refunds-need-approval');
    expect(ask('GET', 'billing', '/admin/users')).toBe('never-admin');
    expect(ask('POST', 'crm', '/', 'search_customers')).toBe('crm-tools');
    expect(ask('POST', 'crm', '/', 'delete_customer')).toBe('crm-never-delete');
    expect(ask('POST', 'crm', '/', 'export_all')).toBeNull();
    expect([...snapshot!.reachableTools(bot)].sort()).toEqual(['billing', 'crm']);
  });
});
