// `epochgate serve` on store.kind postgres when the database cannot be opened (SPEC §14, §17): a start-up
// error, exit 1, and the message names the database without ever showing the URL's password.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { writeGatewayFiles } from '../helpers/gateway.js';
import { pgRunUrl } from '../helpers/postgres.js';
import { serveExpectingExit } from '../helpers/serve-exit.js';

describe('epochgate serve on PostgreSQL', () => {
  it('exits 1 naming the database, its password redacted, when the database does not exist', async () => {
    const url = new URL(pgRunUrl());
    // The run's own password when it has one (embedded server), else any (trust authentication ignores it).
    if (url.password === '') url.password = 'Pg-Secret-42';
    const secret = decodeURIComponent(url.password);
    url.pathname = `/missing_${randomBytes(4).toString('hex')}`;
    const files = writeGatewayFiles({ upstreamUrl: 'http://127.0.0.1:9', logLevel: 'info' });
    const text = readFileSync(files.configFile, 'utf8');
    // The password comes from the environment, as an operator would write it.
    const withEnv = url.toString().replace(`:${url.password}@`, ':${PG_TEST_PASSWORD}@');
    writeFileSync(files.configFile, text.replace(/store:\n  kind: sqlite\n  path: [^\n]+\n/, `store:\n  kind: postgres\n  url: "${withEnv}"\n`));
    process.env.PG_TEST_PASSWORD = secret;
    try {
      const exit = await serveExpectingExit(files.configFile);
      expect(exit.code).toBe(1);
      expect(exit.stderr).toContain(`PostgreSQL store postgres://${url.username}:***@`);
      expect(exit.stderr).toContain('does not exist');
      expect(exit.stderr).not.toContain(secret);
    } finally {
      delete process.env.PG_TEST_PASSWORD;
    }
  });
});
