// `npm test` (and `npx vitest run <files>`): vitest's defaults, minus the sandbox copies of the project that
// a running mutation test (stryker.config.mjs) keeps in .stryker-tmp/.
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    exclude: [...configDefaults.exclude, '.stryker-tmp/**', 'reports/**'],
  },
});
