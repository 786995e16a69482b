// The bench's own logic (not its figures): the load it asks wrk for, how it reads wrk's answer, how it
// reads CPU time, and what it reports.
import { describe, expect, it } from 'vitest';
import { cpuMicros } from '../../src/bench/processes.js';
import { formatReport, pairResult, type BenchReport } from '../../src/bench/report.js';
import { ORDER_BODY, SCENARIOS } from '../../src/bench/scenarios.js';
import { parseWrk, wrkScript } from '../../src/bench/wrk.js';

const WRK_OUTPUT = `Running 3s test @ http://127.0.0.1:1/x
  1 threads and 32 connections
  Latency Distribution
     50%  412.00us
     75%    1.20ms
     90%    2.00ms
     99%    1.50s
  30000 requests in 3.00s, 6.00MB read
  Socket errors: connect 0, read 1, write 2, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:  10000.50
`;

const m = (rps: number, p50Ms = 1, cpu?: number) => ({ requests: rps * 3, errors: 0, rps, p50Ms, p99Ms: 2, ...(cpu !== undefined ? { cpuUsPerRequest: cpu } : {}) });

describe('bench', () => {
  it('reads requests, req/s, percentiles in any unit and every kind of error from wrk', () => {
    expect(parseWrk(WRK_OUTPUT)).toEqual({ requests: 30000, errors: 10, rps: 10000.5, p50Ms: 0.412, p99Ms: 1500 });
  });

  it('asks wrk for the scenario method, headers and body, and a fresh Idempotency-Key per request when asked', () => {
    const plain = wrkScript({ url: 'http://x/', connections: 1, durationMs: 1000, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":"\\"q\\""}' });
    expect(plain).toContain('wrk.method = "POST"');
    expect(plain).toContain('wrk.headers["content-type"] = "application/json"');
    expect(plain).toContain('wrk.body = "{\\"a\\":\\"\\\\\\"q\\\\\\"\\"}"');
    expect(plain).not.toContain('Idempotency-Key');
    const keyed = wrkScript({ url: 'http://x/', connections: 1, durationMs: 1000, freshIdempotencyKey: true });
    expect(keyed).toMatch(/request = function\(\)[\s\S]*wrk.headers\["Idempotency-Key"\] = prefix \.\. "-" \.\. n/);
  });

  it('sends the same request by every path: only the URL and the gateway token differ', () => {
    const targets = { upstream: 'http://u', bare: 'http://b', gateway: 'http://g' };
    for (const scenario of SCENARIOS) {
      const direct = scenario.spec('direct', targets, 'tok');
      const gateway = scenario.spec('gateway', targets, 'tok');
      expect(gateway.url.startsWith('http://g/tools/')).toBe(true);
      expect(scenario.spec('bare', targets, 'tok').url).toBe(direct.url.replace('http://u', 'http://b'));
      expect(gateway.headers).toEqual({ ...direct.headers, authorization: 'Bearer tok' });
      expect(gateway.body).toBe(direct.body);
    }
    expect(Buffer.byteLength(ORDER_BODY)).toBe(1024);
    expect(() => JSON.parse(ORDER_BODY)).not.toThrow();
  });

  it('reads the CPU time of a running process from /proc, and nothing for one that is not there', () => {
    const before = cpuMicros(process.pid);
    expect(before).toBeGreaterThan(0);
    expect(cpuMicros(undefined)).toBeUndefined();
    expect(cpuMicros(2 ** 30)).toBeUndefined();
  });

  it('reports the gateway as a ratio of the bare proxy, with added latency and the ledger curve against N=0', () => {
    const report: BenchReport = {
      generator: 'wrk',
      secondsPerRun: 3,
      node: 'v20',
      scenarios: [{ id: 'get_small', title: 'GET', runs: [pairResult(32, m(20000, 0.5), m(10000, 1, 50), m(7000, 1.25, 90))] }],
      ledgerCurve: [
        { windowEntries: 0, target: 0, gateway: m(1000), ratioToFirst: 1 },
        { windowEntries: 5000, target: 10000, gateway: m(900), ratioToFirst: 0.9 },
      ],
      audit: { ok: true, records: 42, chains: 1 },
    };
    const text = formatReport(report);
    expect(text).toContain('gateway / bare: 0.70×   added p50: 250 µs over bare, 750 µs over direct');
    expect(text).toMatch(/gateway +7000 req\/s .* cpu\/req +90 µs/);
    expect(text).toContain('vs first: 0.90× (seeding budget reached 5000 of 10000)');
    expect(text).toContain('Audit file of the measured gateway: 42 records, hash chains verified');
    const broken = formatReport({ ...report, audit: { ok: false, line: 7, reason: 'changed', message: 'line 7 was changed' } });
    expect(broken).toContain('FAILED verification at line 7: line 7 was changed');
    expect(report.scenarios[0]?.runs[0]).toMatchObject({ ratio: 0.7, addedP50UsOverBare: 250, addedP50UsOverDirect: 750 });
  });
});
