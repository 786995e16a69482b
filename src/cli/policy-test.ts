// `epochgate policy test` (SPEC §15): runs the *.test.yaml case tables next to the policies. A failing
// case prints its input, what was expected and what the gateway's evaluator decided. An invalid test
// file, or a directory with no test at all, fails too: a test run that checks nothing must not pass.
import { formatIssue } from '../config/file-issues.js';
import type { PolicySnapshot } from '../policy/types.js';
import { checkPolicyTests, describeInput, describeOutcome, loadPolicyTests, runPolicyTests } from '../policy/test-runner.js';
import { EXIT_FAILED, EXIT_OK, type CliIo } from './io.js';
import type { PolicyValues } from './policy.js';
import type { PolicySource } from './policy-source.js';

export async function testPolicy(source: PolicySource, policy: PolicySnapshot, values: PolicyValues, io: CliIo): Promise<number> {
  const loaded = await loadPolicyTests(source.dir);
  const issues = [...loaded.issues, ...checkPolicyTests(loaded.files, policy, source.toolNames, source.protocols)];
  if (issues.length > 0) {
    for (const issue of issues) io.stderr(`${formatIssue(issue)}\n`);
    io.stderr(`policy test ${source.dir}: ${issues.length} error(s) in the test files; no case was run\n`);
    return EXIT_FAILED;
  }
  if (loaded.files.length === 0) {
    io.stderr(`policy test ${source.dir}: no policy tests (*.test.yaml) found\n`);
    return EXIT_FAILED;
  }
  const results = runPolicyTests(loaded.files, policy, source.protocols);
  const failed = results.filter((r) => !r.passed);
  if (values.json) {
    io.stdout(`${JSON.stringify({ revision: policy.revision, passed: results.length - failed.length, failed: failed.length, results }, null, 2)}\n`);
    return failed.length === 0 ? EXIT_OK : EXIT_FAILED;
  }
  for (const r of results) {
    const where = r.line === undefined ? r.file : `${r.file}:${r.line}`;
    if (r.passed) {
      io.stdout(`ok    ${r.name}\n`);
      continue;
    }
    io.stdout(
      `FAIL  ${r.name}  (${where})\n` +
        `      input:    ${describeInput(r.input)}\n` +
        `      expected: ${describeOutcome(r.expected.effect, r.expected.rule)}\n` +
        `      got:      ${describeOutcome(r.got.effect, r.got.rule, r.got.note)}\n`,
    );
  }
  io.stdout(`${results.length - failed.length} passed, ${failed.length} failed (${loaded.files.length} file(s), revision ${policy.revision.slice(0, 12)})\n`);
  return failed.length === 0 ? EXIT_OK : EXIT_FAILED;
}
