// SPEC §11: for 2026-07-28 the Mcp-Method / Mcp-Name headers must agree with the body; for older revisions
// they are optional but must agree when present.
import { describe, expect, it } from 'vitest';
import { checkMcpHeaders } from '../../src/mcp/header-rules.js';
import type { McpMessage } from '../../src/mcp/classify.js';

const none = { resourceUri: undefined, promptName: undefined };
const call: McpMessage = { method: 'tools/call', toolName: 'search_orders', id: 1, ...none };
const list: McpMessage = { method: 'tools/list', toolName: undefined, id: 2, ...none };
const NEW = { 'mcp-protocol-version': '2026-07-28' };
const check = (headers: Record<string, string>, message: McpMessage) => () => checkMcpHeaders(headers, message);

describe('checkMcpHeaders', () => {
  it('accepts 2026-07-28 headers that match the body', () => {
    expect(check({ ...NEW, 'mcp-method': 'tools/call', 'mcp-name': 'search_orders' }, call)).not.toThrow();
    expect(check({ ...NEW, 'mcp-method': 'tools/list', 'mcp-name': 'ignored' }, list)).not.toThrow();
  });

  it.each([
    ['a missing Mcp-Method', { ...NEW, 'mcp-name': 'search_orders' }],
    ['a missing Mcp-Name', { ...NEW, 'mcp-method': 'tools/call' }],
    ['another method', { ...NEW, 'mcp-method': 'tools/list', 'mcp-name': 'search_orders' }],
    ['another tool name', { ...NEW, 'mcp-method': 'tools/call', 'mcp-name': 'delete_all' }],
  ])('refuses 2026-07-28 with %s as bad_request', (_name, headers) => {
    expect(check(headers, call)).toThrow(expect.objectContaining({ code: 'bad_request' }));
  });

  it.each(['2025-06-18', '2025-11-25', undefined])('does not require the headers for version %s, but refuses disagreeing ones', (version) => {
    const base: Record<string, string> = version ? { 'mcp-protocol-version': version } : {};
    expect(check(base, call)).not.toThrow();
    expect(check({ ...base, 'mcp-method': 'tools/call', 'mcp-name': 'search_orders' }, call)).not.toThrow();
    expect(check({ ...base, 'mcp-name': 'delete_all' }, call)).toThrow(expect.objectContaining({ code: 'bad_request' }));
    expect(check({ ...base, 'mcp-method': 'initialize' }, list)).toThrow(expect.objectContaining({ code: 'bad_request' }));
  });
});
