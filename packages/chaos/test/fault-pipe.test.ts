import { SeededRandom, VirtualClock } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { FaultPipe, type LinkFaults, resolveLinkFaults } from '../src/index.js';

/** Pushes 0..count-1 at 1 ms intervals through `faults`; returns [time, message] deliveries. */
function run(seed: number, faults: LinkFaults, count = 200): Array<[number, number]> {
  const clock = new VirtualClock();
  const out: Array<[number, number]> = [];
  const pipe = new FaultPipe<number>({
    random: new SeededRandom(seed),
    clock,
    faults: resolveLinkFaults(faults),
    deliver: (m) => out.push([clock.now(), m]),
  });
  for (let i = 0; i < count; i++) clock.setTimeout(() => pipe.push(i), i);
  clock.runUntil(10_000);
  return out;
}

const MIXED: LinkFaults = {
  drop: 0.1,
  duplicate: 0.1,
  reorder: 0.2,
  reorderMaxHoldMs: 30,
  delayMs: [1, 20],
};

describe('FaultPipe', () => {
  it('delivers the same messages at the same virtual times for the same seed', () => {
    expect(run(7, MIXED)).toEqual(run(7, MIXED));
    expect(run(7, MIXED)).not.toEqual(run(8, MIXED));
  });

  it('passes everything through synchronously, in order, with no faults', () => {
    const out = run(1, {}, 50);
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => [i, i]));
  });

  it('keeps send order for messages not chosen for reorder, even with random delays', () => {
    const out = run(3, { delayMs: [0, 50] }).map(([, m]) => m);
    expect(out).toEqual([...out].sort((a, b) => a - b));
    expect(out).toHaveLength(200);
  });

  it('lets later messages overtake a reordered one, and loses none', () => {
    const out = run(5, { reorder: 0.3, reorderMaxHoldMs: 40 }).map(([, m]) => m);
    expect([...out].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(out).not.toEqual([...out].sort((a, b) => a - b));
  });

  it('drops everything with drop=1 and duplicates everything with duplicate=1', () => {
    expect(run(1, { drop: 1 })).toEqual([]);
    const twice = run(1, { duplicate: 1 }, 10).map(([, m]) => m);
    expect(twice).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
  });

  it('delays by a fixed delayMs', () => {
    expect(run(1, { delayMs: 25 }, 3)).toEqual([
      [25, 0],
      [26, 1],
      [27, 2],
    ]);
  });

  it('drops what is pending when a blackhole is set, and counts it', () => {
    const clock = new VirtualClock();
    const out: number[] = [];
    const pipe = new FaultPipe<number>({
      random: new SeededRandom(1),
      clock,
      faults: resolveLinkFaults({ delayMs: 10, reorder: 0.5 }),
      deliver: (m) => out.push(m),
    });
    for (let i = 0; i < 10; i++) pipe.push(i);
    expect(pipe.pending).toBe(10);
    pipe.setFaults(resolveLinkFaults({ blackhole: true }));
    pipe.push(10);
    clock.runUntil(1000);
    expect(out).toEqual([]);
    expect(pipe.pending).toBe(0);
    expect(pipe.stats).toMatchObject({ received: 11, forwarded: 0, dropped: 11, blackholed: 1 });
    expect(clock.pendingTimers).toBe(0);
  });
});
