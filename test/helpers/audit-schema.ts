// Checks an audit file the way a SIEM team would: every line against the shipped JSON Schema
// (src/audit/audit-record.schema.json), the cross-member rules a schema cannot state, and the hash chain.
// Integration tests call expectValidAuditFile(t.auditFile) after their traffic.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { verifyAuditLines } from '../../src/audit/verify.js';
import { validateJson, type JsonSchema } from './json-schema.js';

export const AUDIT_SCHEMA_PATH = fileURLToPath(new URL('../../src/audit/audit-record.schema.json', import.meta.url));
export const AUDIT_SCHEMA = JSON.parse(readFileSync(AUDIT_SCHEMA_PATH, 'utf8')) as JsonSchema & Record<string, any>;

export type AuditRecord = Record<string, any>;

/** Problems of one record (empty when it is valid), each prefixed with its JSON Pointer. */
export function auditRecordProblems(record: unknown): string[] {
  const problems = validateJson(AUDIT_SCHEMA, record).map((e) => `${e.at}: ${e.message}`);
  if (problems.length > 0) return problems;
  const r = record as AuditRecord;
  // SPEC §13 rules between members, which JSON Schema cannot express.
  if (r.type_uid !== 600300 + r.activity_id) problems.push(`/type_uid: must be 600300 + activity_id (${r.activity_id})`);
  if ((r.status_id === 1) !== (r.status_code === 'ok')) problems.push('/status_id: must be 1 exactly when status_code is "ok"');
  if ((r.severity_id === 1) !== (r.status_code === 'ok')) problems.push('/severity_id: must be 1 exactly when status_code is "ok"');
  if (r.unmapped.epochgate.event !== r.api.operation) problems.push('/unmapped/epochgate/event: must equal api.operation');
  if (r.api.operation === 'tool.call' && r.http_request.url === undefined) problems.push('/http_request/url: tool.call records carry the path');
  return problems;
}

/**
 * Asserts that every line of the file is a valid record, that metadata.sequence counts 1, 2, 3 … per chain,
 * and that `audit verify` accepts the file. Returns the parsed records.
 */
export function expectValidAuditFile(path: string): AuditRecord[] {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  expect(lines.pop(), 'the file ends with a newline').toBe('');
  const records: AuditRecord[] = [];
  const failures: string[] = [];
  const lastSeq = new Map<string, number>();
  lines.forEach((line, i) => {
    let record: AuditRecord;
    try {
      record = JSON.parse(line) as AuditRecord;
    } catch {
      failures.push(`line ${i + 1}: not JSON`);
      return;
    }
    for (const problem of auditRecordProblems(record)) failures.push(`line ${i + 1} (${record.api?.operation}): ${problem}`);
    const chain = record.unmapped?.epochgate?.chain?.uid as string | undefined;
    if (chain !== undefined) {
      const expected = (lastSeq.get(chain) ?? 0) + 1;
      if (record.metadata?.sequence !== expected) failures.push(`line ${i + 1}: metadata.sequence ${record.metadata?.sequence}, expected ${expected}`);
      lastSeq.set(chain, expected);
    }
    records.push(record);
  });
  expect(failures, 'audit records that do not match src/audit/audit-record.schema.json').toEqual([]);
  expect(verifyAuditLines(text)).toMatchObject({ ok: true, records: records.length });
  return records;
}
