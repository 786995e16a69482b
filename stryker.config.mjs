// Mutation testing (docs/testing.md): `npm run mutation`, or one module at a time with
// `npm run mutation -- --mutate src/audit/hash-chain.ts`. Not part of CI: a full run takes hours on two cores.
// Incremental: results are kept in reports/stryker-incremental.json, so a rerun only tests mutants in code
// or tests that changed since.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  concurrency: 1,
  timeoutMS: 20_000,
  thresholds: { high: 90, low: 85, break: null },
  // The security-critical modules (issue 14): session fencing and tokens, the pipeline stages, header
  // hygiene and request-target normalisation, approval digests and flow, the ledger, the audit chain and verifier.
  mutate: [
    'src/sessions/session-access.ts',
    'src/sessions/token-verify.ts',
    'src/sessions/token-mint.ts',
    'src/sessions/signing-keys.ts',
    'src/sessions/agent-auth.ts',
    'src/pipeline/stage-*.ts',
    'src/pipeline/mcp-forward.ts',
    'src/pipeline/audit-path.ts',
    'src/pipeline/action-digest.ts',
    'src/upstream/headers.ts',
    'src/upstream/request-target.ts',
    'src/approvals/digest.ts',
    'src/approvals/approval-flow.ts',
    'src/ledger/*.ts',
    'src/audit/hash-chain.ts',
    'src/audit/verify.ts',
  ],
  ignorePatterns: ['reports', 'coverage', 'var', '.stryker-tmp'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
