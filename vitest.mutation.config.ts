// The suite Stryker runs against each mutant (stryker.config.mjs): every layer that imports src/ in process.
// test/e2e spawns the built CLI (dist/), which a mutant in src/ never reaches, so it cannot kill one.
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/{unit,property,contract,integration,adversarial}/**/*.test.ts'],
    exclude: [...configDefaults.exclude, '.stryker-tmp/**', 'reports/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
