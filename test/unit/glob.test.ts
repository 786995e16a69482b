import { describe, expect, it } from 'vitest';
import { compileNameGlob, compilePathGlob, type Matcher } from '../../src/util/glob.js';

function path(pattern: string): Matcher {
  const result = compilePathGlob(pattern);
  if (!result.ok) throw new Error(result.error);
  return result.match;
}

function name(pattern: string): Matcher {
  const result = compileNameGlob(pattern);
  if (!result.ok) throw new Error(result.error);
  return result.match;
}

describe('path globs', () => {
  it('matches literal segments exactly', () => {
    const m = path('/refunds');
    expect(m('/refunds')).toBe(true);
    expect(m('/refunds/1')).toBe(false);
    expect(m('/refund')).toBe(false);
    expect(m('/refunds/')).toBe(false);
  });

  it('lets * match within one segment only', () => {
    const m = path('/users/*/profile');
    expect(m('/users/42/profile')).toBe(true);
    expect(m('/users/a/b/profile')).toBe(false);
    expect(path('/inv-*.pdf')('/inv-2026.pdf')).toBe(true);
    expect(path('/inv-*.pdf')('/inv-2026.txt')).toBe(false);
    expect(path('/a*')('/a/b')).toBe(false);
  });

  it('lets ** at the end match zero or more segments', () => {
    const m = path('/invoices/**');
    expect(m('/invoices')).toBe(true);
    expect(m('/invoices/1')).toBe(true);
    expect(m('/invoices/1/lines/2')).toBe(true);
    expect(m('/invoices/')).toBe(true);
    expect(m('/invoicesX')).toBe(false);
    expect(m('/other/invoices')).toBe(false);
  });

  it('lets ** at the start match zero or more segments', () => {
    const m = path('/**/secret');
    expect(m('/secret')).toBe(true);
    expect(m('/a/b/secret')).toBe(true);
    expect(m('/a/b/secret/x')).toBe(false);
  });

  it('lets ** in the middle match zero or more segments', () => {
    const m = path('/a/**/z');
    expect(m('/a/z')).toBe(true);
    expect(m('/a/b/c/z')).toBe(true);
    expect(m('/a/b/c')).toBe(false);
    expect(path('/a/**/b/**/c')('/a/x/b/y/b/c')).toBe(true);
  });

  it('matches every path with /** and only the root with /', () => {
    expect(path('/**')('/')).toBe(true);
    expect(path('/**')('/x/y')).toBe(true);
    expect(path('/')('/')).toBe(true);
    expect(path('/')('/x')).toBe(false);
  });

  it('rejects ** that is not a whole segment, empty segments, dot segments and other syntax', () => {
    for (const bad of ['/a**b', '/a/**x', '/***', 'invoices', '/a//b', '/a/', '/a/../b', '/a/?', '/a/{id}', '/a/[x]']) {
      expect(compilePathGlob(bad).ok, bad).toBe(false);
    }
  });

  it('stays fast on patterns built to backtrack', () => {
    const m = path(`/${'*a'.repeat(30)}/**/${'x/'.repeat(20)}y`);
    const input = `/${'a'.repeat(5000)}/${'x/'.repeat(2000)}z`;
    const started = performance.now();
    expect(m(input)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('name globs (MCP tool names)', () => {
  it('lets * match any run of characters', () => {
    const m = name('search_*');
    expect(m('search_customers')).toBe(true);
    expect(m('search_')).toBe(true);
    expect(m('xsearch_a')).toBe(false);
    expect(name('*_customer')('get_customer')).toBe(true);
    expect(name('a*b*c')('aXbYc')).toBe(true);
    expect(name('a*b*c')('aXbY')).toBe(false);
  });

  it('matches literal names exactly', () => {
    expect(name('get_customer')('get_customer')).toBe(true);
    expect(name('get_customer')('get_customers')).toBe(false);
  });

  it('rejects empty patterns and reserved syntax', () => {
    expect(compileNameGlob('').ok).toBe(false);
    expect(compileNameGlob('get_?').ok).toBe(false);
  });
});
