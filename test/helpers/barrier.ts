// A barrier in a store method, for race tests that must really race: the first `parties` calls of the
// method wait until all of them have arrived, then run together. So every racer has passed its own checks
// (read the session, found the approval) before any of them writes, and only the store's compare-and-set
// can decide the winner. Patches the live object the gateway uses (RunningGateway.store is the same one).

export interface Barrier {
  /** Resolves true once `parties` calls were held together; false if the deadline passed first. */
  readonly overlapped: Promise<boolean>;
  /** Puts the original method back. */
  restore(): void;
}

export function barrierOn<T extends object, K extends keyof T>(target: T, method: K, parties = 2, deadlineMs = 5_000): Barrier {
  const original = target[method] as unknown as (...args: unknown[]) => Promise<unknown>;
  let arrived = 0;
  let open!: (all: boolean) => void;
  const gate = new Promise<boolean>((resolve) => (open = resolve));
  const timer = setTimeout(() => open(false), deadlineMs);
  timer.unref();
  (target as Record<K, unknown>)[method] = async function (this: unknown, ...args: unknown[]) {
    if (arrived < parties) {
      arrived++;
      if (arrived === parties) {
        clearTimeout(timer);
        open(true);
      }
      await gate;
    }
    return original.apply(this, args);
  };
  return {
    overlapped: gate,
    restore: () => {
      clearTimeout(timer);
      open(false);
      (target as Record<K, unknown>)[method] = original as unknown as T[K];
    },
  };
}

/** Resolves after the next call of `method` on `target` has returned (the gateway polled the store). */
export function nextCall<T extends object, K extends keyof T>(target: T, method: K): Promise<void> {
  const original = target[method] as unknown as (...args: unknown[]) => Promise<unknown>;
  return new Promise<void>((resolve) => {
    (target as Record<K, unknown>)[method] = async function (this: unknown, ...args: unknown[]) {
      (target as Record<K, unknown>)[method] = original as unknown as T[K];
      try {
        return await original.apply(this, args);
      } finally {
        resolve();
      }
    };
  });
}
