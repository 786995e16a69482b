// SPEC §3 reload: the gateway watches the policy directory. fs.watch events arrive in bursts (an editor
// save is often rename + change + change), so they are debounced into one reload. A watcher failure is
// reported, never thrown: losing the watch must not take the gateway down (SIGHUP still reloads).
import { watch, type FSWatcher } from 'node:fs';

export interface WatchOptions {
  /** Quiet period before onChange fires (default 100 ms). */
  readonly debounceMs?: number;
  readonly onError?: (error: Error) => void;
}

/** Calls onChange after changes in `dir` settle; returns close(). */
export function watchPolicyDir(dir: string, onChange: () => void, options: WatchOptions = {}): () => void {
  const debounceMs = options.debounceMs ?? 100;
  const report = (err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err)));
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let watcher: FSWatcher | undefined;
  const fire = () => {
    timer = undefined;
    if (closed) return;
    try {
      onChange();
    } catch (err) {
      report(err);
    }
  };
  try {
    // persistent: false — the watcher alone never keeps the process alive.
    watcher = watch(dir, { persistent: false }, () => {
      if (closed) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(fire, debounceMs);
      timer.unref();
    });
    watcher.on('error', (err) => {
      report(err);
      watcher?.close();
    });
  } catch (err) {
    report(err);
  }
  return () => {
    closed = true;
    if (timer) clearTimeout(timer);
    watcher?.close();
  };
}
