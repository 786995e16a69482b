// One measurement: drive a load spec and, when the process serving it is known, read its CPU time before
// and after, so CPU per request is measured over exactly the requests counted.
import type { LoadDriver, LoadResult, LoadSpec } from './load.js';
import { cpuMicros } from './processes.js';

export interface Measurement extends LoadResult {
  /** CPU µs (user + system) the serving process spent per request; absent for the direct path. */
  readonly cpuUsPerRequest?: number;
}

export async function measure(drive: LoadDriver, spec: LoadSpec, servingPid?: number): Promise<Measurement> {
  const before = cpuMicros(servingPid);
  const result = await drive(spec);
  const after = cpuMicros(servingPid);
  if (before === undefined || after === undefined || result.requests === 0) return result;
  return { ...result, cpuUsPerRequest: (after - before) / result.requests };
}
