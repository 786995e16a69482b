// Runs every sweep step even when an earlier one failed (a failing session sweep must not stop a replica's
// heartbeat), then throws the first failure. Returns how many records the steps changed.
export async function sweepAll(steps: readonly (() => Promise<number>)[]): Promise<number> {
  let changed = 0;
  let failure: unknown;
  for (const step of steps) changed += await step().catch((err: unknown) => ((failure ??= err), 0));
  if (failure !== undefined) throw failure;
  return changed;
}
