// vitest globalSetup: one PostgreSQL database per test run, whatever the number of test files (see
// postgres-server.ts). Test files read its URL with inject('pgUrl') (test/helpers/postgres.ts).
//
// Starting an embedded server costs seconds, so without EPOCHGATE_TEST_PG_URL it is started only when the
// run includes a test file with "postgres" in its name (every PostgreSQL test file is named so): running
// a few unrelated files stays fast.
import type { TestProject } from 'vitest/node';
import { startTestPgServer, TEST_PG_URL_ENV, type TestPgServer } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** '' when this run has no PostgreSQL test file and no EPOCHGATE_TEST_PG_URL. */
    pgUrl: string;
  }
}

let server: TestPgServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  const needed = (process.env[TEST_PG_URL_ENV] ?? '') !== '' || (await runIncludesPostgresFiles(project));
  if (needed) server = await startTestPgServer();
  project.provide('pgUrl', server?.url ?? '');
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = undefined;
}

async function runIncludesPostgresFiles(project: TestProject): Promise<boolean> {
  // The command line's file filters (none: the whole suite).
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  const specs = await project.vitest.globTestSpecifications(filters);
  return specs.some((spec) => /postgres[^/]*$/.test(spec.moduleId));
}
