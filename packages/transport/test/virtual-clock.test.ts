import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/index.js';

describe('VirtualClock', () => {
  it('fires timers in (time, insertion) order and moves now to each', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`z@${clock.now()}`), 0);
    clock.runUntilIdle();
    expect(fired).toEqual(['z@0', 'a@10', 'b@20', 'c@20']);
    expect(clock.now()).toBe(20);
    expect(clock.firedTimers).toBe(4);
  });

  it('cleared timers never fire and do not count as pending', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const a = clock.setTimeout(() => fired.push(1), 5);
    clock.setTimeout(() => fired.push(2), 6);
    expect(clock.pendingTimers).toBe(2);
    clock.clearTimeout(a);
    clock.clearTimeout(a);
    clock.clearTimeout(undefined);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(6);
    clock.runUntilIdle();
    expect(fired).toEqual([2]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runUntil fires what falls due, including timers set by timers, and stops at the limit', () => {
    const clock = new VirtualClock(100);
    const fired: number[] = [];
    const tick = (): void => {
      fired.push(clock.now());
      clock.setTimeout(tick, 30);
    };
    clock.setTimeout(tick, 30);
    clock.runUntil(200);
    expect(fired).toEqual([130, 160, 190]);
    expect(clock.now()).toBe(200);
    clock.advance(20);
    expect(fired).toEqual([130, 160, 190, 220]);
    expect(() => clock.runUntilIdle(50)).toThrow(/still busy/);
  });

  it('a negative, NaN or infinite delay fires now', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(1), -5);
    clock.setTimeout(() => fired.push(2), Number.NaN);
    clock.setTimeout(() => fired.push(3), Number.POSITIVE_INFINITY);
    clock.runUntil(0);
    expect(fired).toEqual([1, 2, 3]);
  });

  it('property: any mix of sets and clears fires exactly the live timers, sorted by (time, seq)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ delay: fc.integer({ min: 0, max: 50 }), clear: fc.boolean() }), {
          maxLength: 200,
        }),
        (ops) => {
          const clock = new VirtualClock();
          const fired: number[] = [];
          const handles = ops.map((op, i) => clock.setTimeout(() => fired.push(i), op.delay));
          ops.forEach((op, i) => {
            if (op.clear) clock.clearTimeout(handles[i]);
          });
          clock.runUntilIdle();
          const expected = ops
            .map((op, i) => ({ ...op, i }))
            .filter((op) => !op.clear)
            .sort((x, y) => x.delay - y.delay || x.i - y.i)
            .map((op) => op.i);
          expect(fired).toEqual(expected);
        },
      ),
    );
  });
});
