// Holds the policy revision in force (SPEC §3 reload, DESIGN rule 6): one reference, swapped whole.
// Requests read current() once at their start and keep that snapshot; a reload that fails validation
// leaves the last good revision in force and is reported through onReloadFailed and status().
import type { Clock } from '../util/clock.js';
import { loadPolicyDir, PolicyError } from './load.js';
import type { PolicySnapshot } from './types.js';

export interface PolicyHolderOptions {
  readonly dir: string;
  /** Tool names from the operator config (rules naming others are load errors). */
  readonly toolNames?: ReadonlySet<string>;
  readonly clock: Clock;
  /** Called for the initial load and for every successful reload. */
  readonly onLoaded?: (snapshot: PolicySnapshot) => void;
  /** Called when a reload is refused; the previous snapshot stays current. */
  readonly onReloadFailed?: (error: PolicyError) => void;
}

export type ReloadResult = { readonly ok: true; readonly snapshot: PolicySnapshot } | { readonly ok: false; readonly error: PolicyError };

export interface PolicyStatus {
  readonly revision: string;
  readonly loadedAt: number;
  readonly files: readonly string[];
  readonly lastError: { readonly message: string; readonly at: number } | null;
}

export class PolicyHolder {
  #snapshot: PolicySnapshot;
  #lastError: PolicyStatus['lastError'] = null;
  // Reloads run one after another, so an older directory state can never overwrite a newer one.
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: PolicyHolderOptions,
    initial: PolicySnapshot,
  ) {
    this.#snapshot = initial;
  }

  /** Loads the directory; throws PolicyError when the initial revision is invalid (start-up error). */
  static async create(options: PolicyHolderOptions): Promise<PolicyHolder> {
    const snapshot = await loadPolicyDir(options.dir, PolicyHolder.loadOptions(options));
    const holder = new PolicyHolder(options, snapshot);
    options.onLoaded?.(snapshot);
    return holder;
  }

  current(): PolicySnapshot {
    return this.#snapshot;
  }

  /** Re-reads the directory; validated completely before the swap (SPEC §3). Never throws. */
  reload(): Promise<ReloadResult> {
    const run = this.#queue.then(() => this.#reloadNow());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  status(): PolicyStatus {
    const snapshot = this.#snapshot;
    return { revision: snapshot.revision, loadedAt: snapshot.loadedAt, files: snapshot.files, lastError: this.#lastError };
  }

  async #reloadNow(): Promise<ReloadResult> {
    let snapshot: PolicySnapshot;
    try {
      snapshot = await loadPolicyDir(this.options.dir, PolicyHolder.loadOptions(this.options));
    } catch (err) {
      // Anything unexpected is still a refused reload: fail closed on the last good revision.
      const error = err instanceof PolicyError ? err : new PolicyError([{ file: this.options.dir, path: '', message: (err as Error).message }], []);
      this.#lastError = { message: error.message, at: this.options.clock.now() };
      this.options.onReloadFailed?.(error);
      return { ok: false, error };
    }
    this.#snapshot = snapshot;
    this.#lastError = null;
    this.options.onLoaded?.(snapshot);
    return { ok: true, snapshot };
  }

  private static loadOptions(options: PolicyHolderOptions) {
    return { now: options.clock.now(), ...(options.toolNames ? { toolNames: options.toolNames } : {}) };
  }
}
