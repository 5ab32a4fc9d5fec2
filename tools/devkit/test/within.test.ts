import { describe, expect, it } from 'vitest';
import { poll, sleep, within } from '../src/time/within.js';

describe('within', () => {
  it('passes a settled promise through', async () => {
    await expect(within(Promise.resolve(7), 1000, 'seven')).resolves.toBe(7);
    await expect(within(Promise.reject(new Error('no')), 1000, 'no')).rejects.toThrow('no');
  });

  it('rejects, naming what it waited for, past the limit', async () => {
    await expect(within(new Promise(() => {}), 20, 'nothing')).rejects.toThrow(
      'timed out after 20 ms waiting for nothing',
    );
  });
});

describe('poll', () => {
  it('returns the first defined value, also from an async check', async () => {
    let n = 0;
    await expect(
      poll('n to reach 3', () => (++n >= 3 ? n : undefined), { timeoutMs: 1000 }),
    ).resolves.toBe(3);
    await expect(poll('a value', async () => 'x', { timeoutMs: 10 })).resolves.toBe('x');
  });

  it('throws past its deadline', async () => {
    await expect(poll('never', () => undefined, { timeoutMs: 20, everyMs: 5 })).rejects.toThrow(
      'timed out after 20 ms waiting for never',
    );
  });

  it('sleep waits', async () => {
    const t0 = performance.now();
    await sleep(20);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
  });
});
