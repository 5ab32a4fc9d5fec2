import { describe, expect, it } from 'vitest';
import { INTERRUPTED, Interrupter, VirtualClock } from '../src/index.js';

describe('Interrupter', () => {
  it('race: the work’s outcome, or INTERRUPTED at once when interrupted', async () => {
    const waits = new Interrupter();
    await expect(waits.race(Promise.resolve(7))).resolves.toBe(7);
    const pending = waits.race(new Promise<number>(() => {}));
    waits.interrupt();
    await expect(pending).resolves.toBe(INTERRUPTED);
  });

  it('sleep: resolves after its time, or at once with its timer cleared when interrupted', async () => {
    const clock = new VirtualClock();
    const waits = new Interrupter();
    const full = waits.sleep(clock, 100);
    clock.advance(100);
    await full;
    const cut = waits.sleep(clock, 1000);
    waits.interrupt();
    await cut;
    expect(clock.pendingTimers).toBe(0);
  });
});
