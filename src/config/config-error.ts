import { formatIssues, type FileIssue } from './file-issues.js';

/** The operator config failed to load (SPEC §2): every issue, each naming file, key path and line. */
export class ConfigError extends Error {
  readonly issues: readonly FileIssue[];

  constructor(issues: readonly FileIssue[]) {
    super(`invalid configuration:\n${formatIssues(issues)}`);
    this.name = 'ConfigError';
    this.issues = Object.freeze([...issues]);
  }
}
