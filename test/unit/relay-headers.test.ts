import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { relayHeaders } from '../../src/upstream/headers.js';

const response = (): ServerResponse => new ServerResponse(new IncomingMessage(new Socket()));

describe('relayHeaders', () => {
  it("sets the tool's headers, and the gateway's own (X-Request-Id) win", () => {
    const res = response();
    res.setHeader('x-request-id', 'gw');
    expect(relayHeaders(Object.assign(Object.create(null), { 'x-request-id': 'tool', 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] }), res)).toBeUndefined();
    expect(res.getHeaders()).toEqual({ 'x-request-id': 'gw', 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  });

  it('leaves the response as it was when Node refuses a header, and returns the refusal', () => {
    const res = response();
    res.setHeader('x-request-id', 'gw');
    const refused = relayHeaders({ 'x-good': '1', 'x-bad': 'a\u0100b', 'x-later': '2' }, res);
    expect((refused as NodeJS.ErrnoException).code).toBe('ERR_INVALID_CHAR');
    expect(res.getHeaders()).toEqual({ 'x-request-id': 'gw' });
    expect((relayHeaders({ 'bad name': '1' }, res) as NodeJS.ErrnoException).code).toBe('ERR_INVALID_HTTP_TOKEN');
  });
});
