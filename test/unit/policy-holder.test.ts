import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyHolder } from '../../src/policy/holder.js';
import { PolicyError } from '../../src/policy/load.js';
import type { PolicySnapshot } from '../../src/policy/types.js';
import { watchPolicyDir } from '../../src/policy/watch.js';
import { ManualClock } from '../../src/util/clock.js';
import { basePolicy, writePolicyDir } from '../fixtures/policy/write-policy-dir.js';

const GOOD = basePolicy('  - id: r1\n    effect: allow\n    tools: [billing]\n');
const GOOD2 = basePolicy('  - id: r2\n    effect: allow\n    tools: [billing]\n');
const TOOLS = new Set(['billing']);

describe('PolicyHolder', () => {
  it('loads at creation, reports it, and exposes status', async () => {
    const clock = new ManualClock(1000);
    const loaded: PolicySnapshot[] = [];
    const holder = await PolicyHolder.create({ dir: writePolicyDir({ 'a.yaml': GOOD }), toolNames: TOOLS, clock, onLoaded: (s) => loaded.push(s) });
    expect(loaded).toEqual([holder.current()]);
    expect(holder.status()).toEqual({ revision: holder.current().revision, loadedAt: 1000, files: ['a.yaml'], lastError: null });
  });

  it('refuses to start on an invalid policy', async () => {
    const dir = writePolicyDir({ 'a.yaml': `${GOOD}bogus: 1\n` });
    await expect(PolicyHolder.create({ dir, clock: new ManualClock() })).rejects.toBeInstanceOf(PolicyError);
  });

  it('swaps in a valid new revision on reload', async () => {
    const dir = writePolicyDir({ 'a.yaml': GOOD });
    const clock = new ManualClock(1000);
    const holder = await PolicyHolder.create({ dir, toolNames: TOOLS, clock });
    const before = holder.current();
    writeFileSync(join(dir, 'a.yaml'), GOOD2);
    clock.advance(500);
    const result = await holder.reload();
    expect(result.ok).toBe(true);
    expect(holder.current()).not.toBe(before);
    expect(holder.current().rules.map((r) => r.id)).toEqual(['r2']);
    expect(holder.status().loadedAt).toBe(1500);
    // A request that pinned the old snapshot keeps evaluating against it.
    expect(before.rules.map((r) => r.id)).toEqual(['r1']);
  });

  it('keeps the last good revision when a reload fails, records lastError, and clears it on the next good reload', async () => {
    const dir = writePolicyDir({ 'a.yaml': GOOD });
    const clock = new ManualClock(1000);
    const failures: PolicyError[] = [];
    const holder = await PolicyHolder.create({ dir, toolNames: TOOLS, clock, onReloadFailed: (e) => failures.push(e) });
    const good = holder.current();
    writeFileSync(join(dir, 'b.yaml'), GOOD2.replace('tools: [billing]', 'tools: [payroll]'));
    clock.set(2000);
    const result = await holder.reload();
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toBeInstanceOf(PolicyError);
    expect(holder.current()).toBe(good);
    expect(failures).toHaveLength(1);
    expect(holder.status().lastError).toEqual({ message: expect.stringContaining('payroll') as unknown, at: 2000 });
    expect(holder.status().revision).toBe(good.revision);
    writeFileSync(join(dir, 'b.yaml'), GOOD2.replace('id: r2', 'id: r3').replace(/agents:[\s\S]*?rules:/, 'rules:'));
    expect((await holder.reload()).ok).toBe(true);
    expect(holder.status().lastError).toBeNull();
  });

  it('runs concurrent reloads one after another', async () => {
    const dir = writePolicyDir({ 'a.yaml': GOOD });
    const holder = await PolicyHolder.create({ dir, toolNames: TOOLS, clock: new ManualClock() });
    writeFileSync(join(dir, 'a.yaml'), GOOD2);
    const [a, b] = await Promise.all([holder.reload(), holder.reload()]);
    expect(a.ok && b.ok).toBe(true);
    expect(holder.current().rules[0]?.id).toBe('r2');
  });
});

describe('watchPolicyDir', () => {
  it('fires once after a burst of changes in the directory', async () => {
    const dir = writePolicyDir({ 'a.yaml': GOOD });
    let calls = 0;
    let close = () => {};
    const fired = new Promise<void>((resolve) => {
      close = watchPolicyDir(dir, () => {
        calls += 1;
        resolve();
      }, { debounceMs: 50 });
    });
    writeFileSync(join(dir, 'a.yaml'), GOOD2);
    writeFileSync(join(dir, 'b.yaml'), GOOD2);
    await fired;
    close();
    expect(calls).toBe(1);
  });

  it('reports (never throws) when the directory cannot be watched', () => {
    const errors: Error[] = [];
    const close = watchPolicyDir('/nonexistent/policies', () => {}, { onError: (e) => errors.push(e) });
    expect(errors).toHaveLength(1);
    expect(() => close()).not.toThrow();
  });
});
