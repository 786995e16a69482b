// `epochgate audit verify FILE…` as a whole (SPEC §13): each file is streamed once (verify-stream.ts) with
// the anchor checks riding along (anchor-check.ts); a file whose chain breaks is handed to verify.ts for the
// diagnosis. Then the files are compared with the stored anchors, when there are any.
import { readFile } from 'node:fs/promises';
import type { StoredAnchor } from '../store/anchor-types.js';
import { AnchorCheck, type AnchorKeys, type Finding } from './anchor-check.js';
import { ChainFollower, readLines } from './verify-stream.js';
import { parseLine, verifyAuditLines } from './verify.js';

export interface VerifyFilesOptions {
  /** Gateway public keys by kid; undefined: anchor signatures are not checked. */
  readonly keys?: AnchorKeys;
  /** The newest stored anchor of every chain, read BEFORE the files: a running gateway keeps anchoring its
   *  current chain, and a store read after the file could name records written after the file was read. */
  readonly stored?: { readonly name: string; readonly anchors: readonly StoredAnchor[] };
  readonly out: (line: string) => void;
  /** Files that cannot be read (they fail the check too). */
  readonly err: (line: string) => void;
}

/** True when every file verifies and no anchor finding was made. */
export async function verifyFiles(files: readonly string[], options: VerifyFilesOptions): Promise<boolean> {
  const check = new AnchorCheck(options.keys, options.stored?.anchors);
  let ok = true;
  for (const file of files) {
    if (!(await verifyOneFile(file, check, options))) ok = false;
  }
  if (options.stored !== undefined) {
    // Only chains anchored after the files begin must be in them: verifying this month's files does not
    // demand last month's. Strictly after: the previous process's stop anchor can share the first record's ms.
    const since = check.since;
    await check.compareWithStore(options.stored.anchors.filter((a) => a.createdAt > since), options.stored.name);
  }
  for (const finding of check.findings) options.out(formatFinding(finding));
  return ok && check.findings.length === 0;
}

async function verifyOneFile(file: string, check: AnchorCheck, { out, err: errOut }: VerifyFilesOptions): Promise<boolean> {
  const follower = new ChainFollower();
  const before = check.anchors;
  try {
    for await (const line of readLines(file)) {
      const { entry, value } = parseLine(line.text);
      const previous = follower.position;
      if (!follower.follow(entry, line.terminated)) return await diagnose(file, out);
      await check.record(file, line.number, value, follower.position!, previous);
    }
  } catch (err) {
    errOut(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return false;
  }
  out(`${file}: ok: ${follower.records} records in ${follower.chains} chains, ${check.anchors - before} anchors`);
  return true;
}

/** The chain broke: verify.ts's look-ahead walk names the first line out of place and how. */
async function diagnose(file: string, out: (line: string) => void): Promise<boolean> {
  const result = verifyAuditLines(await readFile(file, 'utf8'));
  if (result.ok) {
    out(`${file}: ok: ${result.records} records in ${result.chains} chains`);
    return true;
  }
  out(`${file}:${result.line}: ${result.reason}: ${result.message}`);
  return false;
}

function formatFinding(finding: Finding): string {
  return `${finding.where}${finding.line === undefined ? '' : `:${finding.line}`}: ${finding.reason}: ${finding.message}`;
}
