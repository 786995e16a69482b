// Files `epochgate run` hands to the agent: the token file and the checkpoint file (SPEC §15). They live in
// a private directory (0700) and are written 0600 and replaced atomically (write a temporary file in the
// same directory, then rename), so a reader sees the old token or the new one, never half a line.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateDir {
  readonly path: string;
  /** Writes `name` atomically with mode 0600 and returns its path. */
  write(name: string, content: string): string;
  remove(): void;
}

export function createPrivateDir(): PrivateDir {
  // mkdtemp creates the directory with mode 0700.
  const path = mkdtempSync(join(tmpdir(), 'epochgate-run-'));
  return {
    path,
    write(name, content) {
      const target = join(path, name);
      const temporary = join(path, `.${name}.${randomBytes(6).toString('hex')}`);
      writeFileSync(temporary, content, { mode: 0o600, flag: 'wx' });
      renameSync(temporary, target);
      return target;
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
