import { describe, expect, it } from 'vitest';
import { parseList, positive } from '../src/bench/args.js';
import { median, quantile, round } from '../src/bench/stats.js';
import { fmtInt, fmtMs, fmtUs, markdownTable } from '../src/bench/table.js';

describe('stats', () => {
  it('median: middle value, mean of the middle two, NaN ignored, NaN for nothing', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5, 1])).toBe(3);
    expect(median([])).toBeNaN();
    expect(median([Number.NaN])).toBeNaN();
  });

  it('quantile: the value at index floor(q·n) of sorted values, as ws-echo.mjs', () => {
    const sorted = Float64Array.from([5, 1, 4, 2, 3]).sort();
    expect(quantile(sorted, 0.5)).toBe(3);
    expect(quantile(sorted, 0.99)).toBe(5);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('round', () => {
    expect(round(1.23456, 2)).toBe(1.23);
    expect(round(1234.5, 0)).toBe(1235);
  });
});

describe('table and args', () => {
  it('formats figures, n/a for NaN', () => {
    expect(fmtInt(12345.6)).toBe('12,346');
    expect(fmtUs(87.4)).toBe('87 µs');
    expect(fmtUs(1250)).toBe('1.25 ms');
    expect(fmtMs(0.851)).toBe('0.85 ms');
    expect(fmtMs(22.63)).toBe('22.6 ms');
    for (const f of [fmtInt, fmtUs, fmtMs]) expect(f(Number.NaN)).toBe('n/a');
  });

  it('markdownTable', () => {
    expect(markdownTable(['a', 'b'], [['1', '2']])).toEqual([
      '| a | b |',
      '|---|---|',
      '| 1 | 2 |',
    ]);
  });

  it('parseList and positive', () => {
    expect(parseList('1,64', 'inflight')).toEqual([1, 64]);
    expect(() => parseList('1,x', 'inflight')).toThrow(
      '--inflight must be a comma-separated list of positive integers',
    );
    expect(positive('seconds', undefined, 5)).toBe(5);
    expect(positive('seconds', '0.5')).toBe(0.5);
    expect(() => positive('seconds', '0')).toThrow('--seconds must be a positive number');
    expect(() => positive('seconds', undefined)).toThrow();
  });
});
