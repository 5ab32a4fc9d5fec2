import { describe, expect, it } from 'vitest';
import { SeededRandom, systemRandom } from '../src/index.js';

describe('SeededRandom', () => {
  it('the same seed gives the same sequence; different seeds differ', () => {
    const a = new SeededRandom(123);
    const b = new SeededRandom(123);
    const c = new SeededRandom(124);
    const seqA = Array.from({ length: 100 }, () => a.uint32());
    expect(Array.from({ length: 100 }, () => b.uint32())).toEqual(seqA);
    expect(Array.from({ length: 100 }, () => c.uint32())).not.toEqual(seqA);
  });

  it('is stable across versions (golden values for seed 1)', () => {
    const r = new SeededRandom(1);
    const golden = Array.from({ length: 4 }, () => r.uint32());
    expect(golden).toMatchInlineSnapshot(`
      [
        1828152527,
        3394835397,
        2967886022,
        2251045104,
      ]
    `);
  });

  it('int(n) is uniform over [0, n)', () => {
    const r = new SeededRandom(7);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const v = r.int(10);
      counts[v] = (counts[v] ?? 0) + 1;
    }
    for (const count of counts) {
      expect(count).toBeGreaterThan(9_500);
      expect(count).toBeLessThan(10_500);
    }
    expect(() => r.int(0)).toThrow(RangeError);
    expect(() => r.int(1.5)).toThrow(RangeError);
  });

  it('fork() gives a deterministic, independent child', () => {
    const parent1 = new SeededRandom(99);
    const parent2 = new SeededRandom(99);
    const child1 = parent1.fork();
    const child2 = parent2.fork();
    const seq = Array.from({ length: 20 }, () => child1.uint32());
    expect(Array.from({ length: 20 }, () => child2.uint32())).toEqual(seq);
    expect(Array.from({ length: 20 }, () => parent1.uint32())).not.toEqual(seq);
  });

  it('helpers: shuffle is a permutation, pick/chance/bytes/string stay in range', () => {
    const r = new SeededRandom(5);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = r.shuffle(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(shuffled).not.toEqual(items);
    expect(items).toContain(r.pick(items));
    expect(() => r.pick([])).toThrow(RangeError);
    expect(r.bytes(16)).toHaveLength(16);
    expect(r.string(20)).toMatch(/^[a-zA-Z0-9]{20}$/);
    const hits = Array.from({ length: 10_000 }, () => r.chance(0.25)).filter(Boolean).length;
    expect(hits).toBeGreaterThan(2_300);
    expect(hits).toBeLessThan(2_700);
    expect(() => new SeededRandom(1.5)).toThrow(RangeError);
  });

  it('systemRandom fits the same interface', () => {
    const v = systemRandom.int(10);
    expect(v).toBeGreaterThanOrEqual(0);
    expect(v).toBeLessThan(10);
    expect(systemRandom.fork()).toBe(systemRandom);
  });
});
