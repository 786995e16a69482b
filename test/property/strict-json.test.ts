// Property: strict JSON parsing agrees with JSON.parse on what it accepts, refuses duplicates and depth
// beyond the limit with its own typed errors, and never fails any other way (no stack exhaustion).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DuplicateKeyError, exceedsJsonDepth, JsonTooDeepError, MAX_JSON_DEPTH, parseStrictJson } from '../../src/util/strict-json.js';

function depthOf(value: unknown): number {
  // Iterative, so the oracle itself cannot overflow on deep inputs.
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d + 1);
    for (const child of Object.values(v as object)) stack.push([child, d + 1]);
  }
  return max;
}

const wrap = (text: string, levels: number, open: string, close: string): string => open.repeat(levels) + text + close.repeat(levels);

describe('strict JSON (property)', () => {
  it('parses exactly what JSON.parse parses when there are no duplicates and nesting is within the limit', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const text = JSON.stringify(value);
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
        expect(exceedsJsonDepth(text)).toBe(depthOf(value) > MAX_JSON_DEPTH);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses nesting deeper than 64 levels in any mix of objects and arrays, and accepts exactly 64', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.boolean(), fc.jsonValue({ maxDepth: 0 }), (levels, arrays, leaf) => {
        const text = arrays ? wrap(JSON.stringify(leaf), levels, '[', ']') : wrap(JSON.stringify(leaf), levels, '{"k":', '}');
        if (levels > MAX_JSON_DEPTH) expect(() => parseStrictJson(text)).toThrow(JsonTooDeepError);
        else expect(depthOf(parseStrictJson(text))).toBe(levels);
      }),
      { numRuns: 300 },
    );
  });

  it('finds a duplicate member name at any depth, however it is escaped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), fc.constantFrom('"a"', '"\\u0061"'), (levels, spelling) => {
        const text = wrap(`{"a":1,${spelling}:2}`, levels, '{"k":', '}');
        expect(() => parseStrictJson(text)).toThrow(DuplicateKeyError);
      }),
    );
  });

  it('fails only with SyntaxError (or its subclasses) on arbitrary text, never with a RangeError', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', 'a', '1', ' ') , maxLength: 400 }), (text) => {
        try {
          parseStrictJson(text);
        } catch (err) {
          expect(err).toBeInstanceOf(SyntaxError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
