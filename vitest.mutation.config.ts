// The suite Stryker runs against each mutant (stryker.config.mjs): every layer that imports src/ in process.
// test/e2e spawns the built CLI (dist/), which a mutant in src/ never reaches, so it cannot kill one.
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // MUTATION_TESTS=test/unit/x.test.ts,… narrows the run to those files: a quick first look at one module
    // (its score is then a lower bound: the other layers may kill more).
    include: process.env.MUTATION_TESTS ? process.env.MUTATION_TESTS.split(',') : ['test/{unit,property,contract,integration,adversarial}/**/*.test.ts'],
    exclude: [...configDefaults.exclude, '.stryker-tmp/**', 'reports/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
