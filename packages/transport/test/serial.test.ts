import { describe, expect, it } from 'vitest';
import { Serial } from '../src/index.js';

describe('Serial (a clerk one operation at a time)', () => {
  it('runs ops in call order, each after the previous settled, rejections included', async () => {
    const serial = new Serial(() => undefined);
    const order: string[] = [];
    let release: () => void = () => {};
    const first = serial.run(
      () =>
        new Promise<string>((resolve) => {
          order.push('start 1');
          release = () => resolve('one');
        }),
    );
    const second = serial.run(async () => {
      order.push('start 2');
      throw new Error('two failed');
    });
    const third = serial.run(async () => {
      order.push('start 3');
      return 'three';
    });
    await Promise.resolve();
    expect(order).toEqual(['start 1']);
    release();
    expect(await first).toBe('one');
    await expect(second).rejects.toThrow('two failed');
    expect(await third).toBe('three');
    expect(order).toEqual(['start 1', 'start 2', 'start 3']);
  });

  it('once refused, rejects new ops at once and queued ones before they start', async () => {
    let closed = false;
    const serial = new Serial(() => (closed ? new Error('closed') : undefined));
    let release: () => void = () => {};
    const running = serial.run(() => new Promise<void>((resolve) => (release = resolve)));
    let started = false;
    const queued = serial.run(async () => {
      started = true;
    });
    await Promise.resolve(); // the first op has started
    await Promise.resolve();
    closed = true;
    await expect(serial.run(async () => 1)).rejects.toThrow('closed');
    release();
    await running;
    await expect(queued).rejects.toThrow('closed');
    expect(started).toBe(false);
  });
});
