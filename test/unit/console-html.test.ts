// The console's escaping template, cookie parsing and CSRF tokens: the pieces every page relies on.
import { describe, expect, it } from 'vitest';
import { escapeHtml, html, SafeHtml } from '../../src/console/html.js';
import { readCookie, setCookie } from '../../src/console/cookies.js';
import { csrfMatches, csrfTokenFor, newCookieValue } from '../../src/console/console-auth.js';
import { decodedQuery } from '../../src/console/approval-pages.js';

describe('escapeHtml and the html template', () => {
  it('escapes every character that can end a text node or a quoted attribute', () => {
    expect(escapeHtml(`<a href="x" title='y'>&\`</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;');
    expect(escapeHtml('plain text 123')).toBe('plain text 123');
  });

  it('escapes interpolated strings and numbers, keeps SafeHtml, joins arrays and drops null, undefined and false', () => {
    const planted = '<script>alert(1)</script>';
    const out = html`<p title="${planted}">${planted}${html`<b>${'&'}</b>`}${[1, '<', null]}${undefined}${false}</p>`;
    expect(out).toBeInstanceOf(SafeHtml);
    expect(out.value).toBe('<p title="&lt;script&gt;alert(1)&lt;/script&gt;">&lt;script&gt;alert(1)&lt;/script&gt;<b>&amp;</b>1&lt;</p>');
  });

  it('does not treat an object that merely looks like SafeHtml as markup', () => {
    const fake = { value: '<i>x</i>', toString: () => '<i>x</i>' } as unknown as string;
    expect(html`${fake}`.value).toBe('&lt;i&gt;x&lt;/i&gt;');
  });
});

describe('console cookies', () => {
  const value = 'A'.repeat(43);

  it('reads our cookie among others, and refuses a duplicate, a malformed or a missing one', () => {
    expect(readCookie(`a=1; epochgate_console=${value}; b=2`, 'epochgate_console')).toBe(value);
    expect(readCookie(`epochgate_console=${value}; epochgate_console=${'B'.repeat(43)}`, 'epochgate_console')).toBeUndefined();
    expect(readCookie('epochgate_console=<script>', 'epochgate_console')).toBeUndefined();
    expect(readCookie('epochgate_console_signin=' + value, 'epochgate_console')).toBeUndefined();
    expect(readCookie(undefined, 'epochgate_console')).toBeUndefined();
  });

  it('sets HttpOnly, SameSite=Strict cookies on /console/, Secure only when asked', () => {
    expect(setCookie('n', value, { secure: false })).toBe(`n=${value}; Path=/console/; HttpOnly; SameSite=Strict`);
    expect(setCookie('n', value, { secure: true, maxAgeSeconds: 600 })).toBe(`n=${value}; Path=/console/; HttpOnly; SameSite=Strict; Max-Age=600; Secure`);
  });
});

describe('console CSRF tokens', () => {
  it('accepts only the token derived from this cookie value', () => {
    const cookie = newCookieValue();
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const token = csrfTokenFor(cookie);
    expect(csrfMatches(cookie, token)).toBe(true);
    expect(csrfMatches(newCookieValue(), token)).toBe(false);
    expect(csrfMatches(cookie, token.slice(1))).toBe(false);
    expect(csrfMatches(cookie, undefined)).toBe(false);
    expect(csrfMatches(undefined, token)).toBe(false);
  });
});

describe('decodedQuery', () => {
  it('percent-decodes the parameters for reading', () => {
    expect(decodedQuery('?q=%3Cb%3E&n=1+2')).toBe('q = <b>; n = 1 2');
    expect(decodedQuery('')).toBe('');
  });
});
