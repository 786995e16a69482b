import { describe, expect, it } from 'vitest';
import { DuplicateKeyError, findDuplicateKey, parseStrictJson } from '../../src/util/strict-json.js';

describe('parseStrictJson', () => {
  it('parses what JSON.parse parses when names are unique', () => {
    const text = '{"a":1,"b":{"a":2,"c":[{"a":3},{"a":4}]},"s":"x\\"y,{","e":[]}';
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    expect(parseStrictJson('[1,"a",null]')).toEqual([1, 'a', null]);
    expect(parseStrictJson('"{\\"a\\":1,\\"a\\":2}"')).toBe('{"a":1,"a":2}');
    expect(parseStrictJson(' 42 ')).toBe(42);
  });

  it('rejects a duplicate at the top level', () => {
    expect(() => parseStrictJson('{"epoch":1,"epoch":2}')).toThrow(DuplicateKeyError);
  });

  it('rejects a duplicate at any depth and names the path', () => {
    expect(findDuplicateKey('{"a":{"b":[0,{"c":1,"c":2}]}}')).toEqual({ key: 'c', path: 'a.b.1' });
    expect(() => parseStrictJson('[{"x":1},{"y":1,"y":1}]')).toThrow(DuplicateKeyError);
  });

  it('compares names after unescaping ("a" and "\\u0061" are the same name)', () => {
    expect(() => parseStrictJson('{"alg":"EdDSA","\\u0061lg":"none"}')).toThrow(/duplicate member name "alg"/);
  });

  it('does not confuse values, or the same name in sibling objects, with duplicates', () => {
    expect(parseStrictJson('{"a":"a","b":"a"}')).toEqual({ a: 'a', b: 'a' });
    expect(parseStrictJson('{"o":{"k":1},"p":{"k":1},"k":[{"k":1},{"k":2}]}')).toEqual({ o: { k: 1 }, p: { k: 1 }, k: [{ k: 1 }, { k: 2 }] });
    expect(parseStrictJson('{"a\\\\":1,"a":2}')).toEqual({ 'a\\': 1, a: 2 });
  });

  it('throws SyntaxError for invalid JSON', () => {
    expect(() => parseStrictJson('{"a":1,}')).toThrow(SyntaxError);
    expect(() => parseStrictJson('{"a":1,"a":')).toThrow(SyntaxError);
  });

  it('treats __proto__ as an ordinary name', () => {
    expect(() => parseStrictJson('{"__proto__":1,"__proto__":2}')).toThrow(DuplicateKeyError);
    expect(Object.keys(parseStrictJson('{"__proto__":{"x":1}}') as object)).toEqual(['__proto__']);
  });
});
