// Human-readable and JSON forms of the bench figures. Ratios are the headline (SPEC §16): absolute
// numbers vary between machines, the ratio to the bare proxy in the same run much less.
import type { VerifyResult } from '../audit/verify.js';
import type { Measurement } from './measure.js';

export interface PairResult {
  readonly connections: number;
  readonly direct: Measurement;
  readonly bare: Measurement;
  readonly gateway: Measurement;
  /** Gateway req/s over bare proxy req/s, in this run. */
  readonly ratio: number;
  readonly addedP50UsOverBare: number;
  readonly addedP50UsOverDirect: number;
}

/** One scenario at one connection count, with the figures derived from it. */
export function pairResult(connections: number, direct: Measurement, bare: Measurement, gateway: Measurement): PairResult {
  return {
    connections,
    direct,
    bare,
    gateway,
    ratio: bare.rps > 0 ? gateway.rps / bare.rps : 0,
    addedP50UsOverBare: (gateway.p50Ms - bare.p50Ms) * 1000,
    addedP50UsOverDirect: (gateway.p50Ms - direct.p50Ms) * 1000,
  };
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly runs: readonly PairResult[];
}

export interface CurvePoint {
  /** Identical calls the window held when the measurement started. */
  readonly windowEntries: number;
  /** What the bench set out to seed (it stops seeding at its time budget: windowEntries says what it reached). */
  readonly target: number;
  readonly gateway: Measurement;
  /** This point's req/s over the first point's. */
  readonly ratioToFirst: number;
}

export interface BenchReport {
  readonly generator: 'wrk' | 'node';
  readonly secondsPerRun: number;
  readonly node: string;
  readonly scenarios: readonly ScenarioResult[];
  readonly ledgerCurve: readonly CurvePoint[];
  /** `audit verify` of the measured gateway's audit file: the guarantees held under load. */
  readonly audit: VerifyResult;
}

const ms = (v: number): string => v.toFixed(2).padStart(7);
const us = (v: number | undefined): string => (v === undefined ? '      –' : v.toFixed(0).padStart(7));

function line(name: string, m: Measurement): string {
  return `    ${name.padEnd(8)} ${m.rps.toFixed(0).padStart(7)} req/s  p50 ${ms(m.p50Ms)} ms  p99 ${ms(m.p99Ms)} ms  cpu/req ${us(m.cpuUsPerRequest)} µs  errors ${m.errors}`;
}

function runSummary(run: PairResult): string {
  const added = `${run.addedP50UsOverBare.toFixed(0)} µs over bare, ${run.addedP50UsOverDirect.toFixed(0)} µs over direct`;
  return `    gateway / bare: ${run.ratio.toFixed(2)}×   added p50: ${added}`;
}

export function formatReport(report: BenchReport): string {
  const out = [`epochgate bench: ${report.secondsPerRun} s per run, load from ${report.generator}, node ${report.node}`];
  for (const scenario of report.scenarios) {
    out.push('', `${scenario.title} [${scenario.id}]`);
    for (const run of scenario.runs) {
      out.push(`  ${run.connections} connection${run.connections === 1 ? '' : 's'}`);
      out.push(line('direct', run.direct), line('bare', run.bare), line('gateway', run.gateway), runSummary(run));
    }
  }
  if (report.ledgerCurve.length > 0) {
    out.push('', 'Ledger growth: side-effecting POST after N identical calls in one window');
    for (const point of report.ledgerCurve) {
      const reached = point.windowEntries < point.target ? ` (seeding budget reached ${point.windowEntries} of ${point.target})` : '';
      out.push(`${line(`N=${point.windowEntries}`, point.gateway).replace(/^ {4}/, '  ')}   vs first: ${point.ratioToFirst.toFixed(2)}×${reached}`);
    }
  }
  const audit = report.audit;
  out.push('', audit.ok ? `Audit file of the measured gateway: ${audit.records} records, hash chains verified` : `Audit file of the measured gateway FAILED verification at line ${audit.line}: ${audit.message}`);
  return `${out.join('\n')}\n`;
}
