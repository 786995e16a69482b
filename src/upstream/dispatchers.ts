// One undici connection pool per tool, built once at start (DESIGN rule 3) and closed at shutdown.
import { Pool, type Dispatcher } from 'undici';
import type { ToolConfig } from '../config/types.js';

export interface ToolDispatchers {
  /** The tool's pool. A missing tool is a wiring bug (routing only yields configured tools). */
  get(tool: string): Dispatcher;
  /** Graceful: waits for in-flight requests, then closes every pool. */
  close(): Promise<void>;
  /** Immediate: aborts in-flight requests (shutdown grace expired). */
  destroy(): Promise<void>;
}

export interface DispatcherOptions {
  /** Overrides every tool's max_connections (benchmarks); by default each tool's own pool size applies. */
  readonly connections?: number;
  /** Idle keep-alive ms (default 4000: below Node's 5 s server default, so we close first). */
  readonly keepAliveTimeoutMs?: number;
}

export function createDispatchers(
  tools: ReadonlyMap<string, ToolConfig>,
  options: DispatcherOptions = {},
): ToolDispatchers {
  const pools = new Map<string, Pool>();
  for (const [name, tool] of tools) {
    pools.set(
      name,
      new Pool(tool.upstream.origin, {
        // SPEC §2 tools.*.max_connections: one tool cannot exhaust the gateway's sockets, and the cap is the
        // tool's own pool, so a tool that holds all of its connections only queues its own calls.
        connections: options.connections ?? tool.maxConnections,
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
        // SPEC §8 "no upstream answer in timeout_ms": time to response headers. forward() also sets this
        // per request and runs its own timer covering pool queueing and connect.
        headersTimeout: tool.timeoutMs,
        // No body idle timeout here: a text/event-stream may legitimately stay quiet for minutes. forward()
        // applies an idle timeout itself to responses that are not event streams.
        bodyTimeout: 0,
        connect: { timeout: Math.min(tool.timeoutMs, 10_000) },
      }),
    );
  }
  const all = (): Pool[] => [...pools.values()];
  return {
    get(tool: string): Dispatcher {
      const pool = pools.get(tool);
      if (!pool) throw new Error(`no dispatcher for tool ${tool}`);
      return pool;
    },
    async close(): Promise<void> {
      await Promise.all(all().map((p) => (p.closed ? undefined : p.close())));
    },
    async destroy(): Promise<void> {
      await Promise.all(all().map((p) => (p.destroyed ? undefined : p.destroy())));
    },
  };
}
