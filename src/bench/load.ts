// A closed-loop load generator: `connections` workers, each sending the next request when the last
// answered, for a fixed time. Bounded in count and time; loopback only. Used when wrk is not installed.
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';

export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly durationMs: number;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** A fresh Idempotency-Key on every request (SPEC §10 first use each time). */
  readonly freshIdempotencyKey?: boolean;
}

export interface LoadResult {
  readonly requests: number;
  /** Non-2xx answers and transport errors. */
  readonly errors: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export type LoadDriver = (spec: LoadSpec) => Promise<LoadResult>;

export const runLoad: LoadDriver = async (spec) => {
  const target = new URL(spec.url);
  const pool = new Pool(target.origin, { connections: spec.connections, pipelining: 1 });
  const keyPrefix = randomUUID();
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + spec.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const headers: Record<string, string> = { ...spec.headers };
      if (spec.freshIdempotencyKey) headers['idempotency-key'] = `${keyPrefix}-${sent++}`;
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: target.pathname + target.search, method: spec.method ?? 'GET', headers, body: spec.body ?? null });
        await res.body.dump();
        if (res.statusCode < 200 || res.statusCode > 299) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, worker));
  const elapsed = performance.now() - started;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests: latencies.length, errors, rps: (latencies.length / elapsed) * 1000, p50Ms: at(0.5), p99Ms: at(0.99) };
};
