// "Parse at the edge, then trust and freeze" (DESIGN rule 4): loaded config and policy are immutable.

/** A Map whose set/delete/clear throw once built: Object.freeze alone does not stop Map mutation. */
export class FrozenMap<K, V> extends Map<K, V> {
  #sealed = false;

  constructor(entries: Iterable<readonly [K, V]>) {
    super();
    for (const [key, value] of entries) super.set(key, value);
    this.#sealed = true;
    Object.freeze(this);
  }

  override set(key: K, value: V): this {
    if (this.#sealed) throw new TypeError('FrozenMap is read-only');
    return super.set(key, value);
  }

  override delete(_key: K): boolean {
    throw new TypeError('FrozenMap is read-only');
  }

  override clear(): void {
    throw new TypeError('FrozenMap is read-only');
  }
}

/** Freezes plain objects and arrays recursively (maps are expected to be FrozenMaps already). */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Map) {
    for (const item of value.values()) deepFreeze(item);
    return value;
  }
  if (Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (value instanceof URL) return value;
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<string | symbol, unknown>)[key]);
  return value;
}
