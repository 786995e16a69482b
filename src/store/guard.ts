// The one guard every backend runs its operations through (DESIGN rule 5): any failure of the backend
// itself — I/O, corruption, a lost connection, a closed store — becomes GatewayError('store_unavailable'),
// so callers fail closed without inspecting backend errors. Operations may be synchronous (SQLite, memory)
// or asynchronous (a network round trip); the guard treats both alike.
import { GatewayError } from '../errors/gateway-error.js';

export type StoreGuard = <T>(operation: () => T | PromiseLike<T>) => Promise<T>;

/** `onError` sees the raw backend error first (metrics, logs); a failing observer never replaces it. */
export function createStoreGuard(onError?: (err: unknown) => void, isClosed: () => boolean = () => false): StoreGuard {
  const fail = (err: unknown): GatewayError => {
    try {
      onError?.(err);
    } catch {
      // A failing observer must not replace the store error the caller needs to see.
    }
    return new GatewayError('store_unavailable', { cause: err });
  };
  return async <T>(operation: () => T | PromiseLike<T>): Promise<T> => {
    try {
      // A closed store fails like a closed connection, so shutdown ordering bugs show in tests.
      if (isClosed()) throw new Error('store is closed');
      return await operation();
    } catch (err) {
      throw fail(err);
    }
  };
}
