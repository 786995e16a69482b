// The `notifications` block of the operator config (SPEC §18): strict, http(s) URLs only, a non-empty
// secret that is never echoed, a non-empty set of known events, format json (default) or slack.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { consoleLink } from '../../src/notify/console-link.js';

const TOOLS = `tools:\n  billing:\n    upstream: "http://127.0.0.1:9001/api"\n`;

function load(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'epochgate-config-'));
  const file = join(dir, 'epochgate.yaml');
  writeFileSync(file, `${TOOLS}${yaml}`);
  return loadConfig(file, {}, env);
}

function issues(yaml: string, env: NodeJS.ProcessEnv = {}): { path: string; message: string }[] {
  try {
    load(yaml, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => ({ path: i.path, message: i.message }));
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const hook = (fields: string) => `notifications:\n  webhooks:\n    - { ${fields} }\n`;

describe('notifications config', () => {
  it('defaults to no webhooks', () => {
    expect(load('').notifications).toEqual({ webhooks: [] });
  });

  it('reads a webhook with its secret from the environment and format json by default', () => {
    const config = load(hook('url: "https://hooks.example/in?k=1", secret: "${HOOK_SECRET}", events: [approval.request, ledger.unknown]'), { HOOK_SECRET: 'whsec-1' });
    expect(config.notifications.webhooks).toEqual([
      { url: 'https://hooks.example/in?k=1', secret: 'whsec-1', events: ['approval.request', 'ledger.unknown'], format: 'json' },
    ]);
    expect(Object.isFrozen(config.notifications.webhooks[0])).toBe(true);
  });

  it('refuses other schemes, an empty secret, no or unknown or repeated events, other formats, unknown keys and repeated urls', () => {
    expect(issues(hook('url: "ftp://x/", secret: "s", events: [session.revoke]')).map((i) => i.path)).toEqual(['notifications.webhooks[0].url']);
    expect(issues(hook('url: "not a url", secret: "s", events: [session.revoke]')).map((i) => i.path)).toEqual(['notifications.webhooks[0].url']);
    expect(issues(hook('url: "http://x/", secret: "", events: [session.revoke]')).map((i) => i.path)).toEqual(['notifications.webhooks[0].secret']);
    expect(issues(hook('url: "http://x/", events: [session.revoke]')).map((i) => i.path)).toEqual(['notifications.webhooks[0].secret']);
    expect(issues(hook('url: "http://x/", secret: "s", events: []')).map((i) => i.path)).toEqual(['notifications.webhooks[0].events']);
    expect(issues(hook('url: "http://x/", secret: "s", events: [session.create]')).map((i) => i.path)).toEqual(['notifications.webhooks[0].events[0]']);
    expect(issues(hook('url: "http://x/", secret: "s", events: [session.revoke, session.revoke]')).map((i) => i.path)).toEqual(['notifications.webhooks[0].events']);
    expect(issues(hook('url: "http://x/", secret: "s", events: [session.revoke], format: xml')).map((i) => i.path)).toEqual(['notifications.webhooks[0].format']);
    expect(issues(hook('url: "http://x/", secret: "s", events: [session.revoke], retries: 3')).map((i) => i.path)).toEqual(['notifications.webhooks[0].retries']);
    const twice = `notifications:\n  webhooks:\n    - { url: "http://x/", secret: "a", events: [session.revoke] }\n    - { url: "http://x/", secret: "b", events: [ledger.unknown] }\n`;
    expect(issues(twice).map((i) => i.path)).toEqual(['notifications.webhooks']);
  });

  it('never echoes the secret in an error', () => {
    const found = issues(hook('url: "gopher://x/", secret: "${HOOK_SECRET}", events: [nope]'), { HOOK_SECRET: 'very-secret-value' });
    expect(found.length).toBe(2);
    expect(JSON.stringify(found)).not.toContain('very-secret-value');
  });

  it('links to the console at the control URL + /console unless the console block says otherwise', () => {
    const config = load('');
    expect(consoleLink(config, 'http://127.0.0.1:8081')).toEqual({ baseUrl: 'http://127.0.0.1:8081/console', enabled: false });
    const withConsole = { ...config, console: { enabled: true, publicUrl: 'https://gw.example/console/' } };
    expect(consoleLink(withConsole, 'http://127.0.0.1:8081')).toEqual({ baseUrl: 'https://gw.example/console', enabled: true });
  });
});
