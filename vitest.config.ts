// `npm test` (and `npx vitest run <files>`): vitest's defaults, minus the sandbox copies of the project that
// a running mutation test (stryker.config.mjs) keeps in .stryker-tmp/. The PostgreSQL tests get one
// database per run from the global setup (EPOCHGATE_TEST_PG_URL, else an embedded server).
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    exclude: [...configDefaults.exclude, '.stryker-tmp/**', 'reports/**'],
    globalSetup: ['test/helpers/postgres-global-setup.ts'],
  },
});
