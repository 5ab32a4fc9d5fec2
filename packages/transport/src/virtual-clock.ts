import type { Clock, TimerHandle } from './clock.js';

interface Timer {
  readonly time: number;
  readonly seq: number;
  callback: (() => void) | undefined;
}

/**
 * A clock that only moves when told to. Timers sit in a binary heap ordered by
 * (time, insertion sequence), so timers due at the same instant fire in the order they were set
 * and a run is the same event for event each time.
 *
 * The `run*` and `step` methods are synchronous: they fire callbacks but do not wait for the
 * promise continuations those callbacks start. `simulate()` interleaves both.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #heap: Timer[] = [];
  #live = 0;
  #fired = 0;

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const timer: Timer = { time: this.#now + delay, seq: this.#seq++, callback };
    this.#push(timer);
    this.#live++;
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as Timer | undefined;
    if (timer?.callback === undefined) return;
    timer.callback = undefined;
    this.#live--;
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#live;
  }

  /** Timers fired since this clock was made. */
  get firedTimers(): number {
    return this.#fired;
  }

  /** When the next live timer is due, or undefined when none is set. */
  nextTimerAt(): number | undefined {
    this.#dropCleared();
    return this.#heap[0]?.time;
  }

  /** Fires the next due timer, moving time forward to it. Returns false when no timer is set. */
  step(): boolean {
    this.#dropCleared();
    const timer = this.#pop();
    if (timer === undefined) return false;
    const callback = timer.callback;
    timer.callback = undefined;
    this.#live--;
    this.#fired++;
    this.#now = timer.time;
    callback?.();
    return true;
  }

  /** Fires every timer due at or before `timeMs` (including ones they set), then sets now to `timeMs`. */
  runUntil(timeMs: number): void {
    for (;;) {
      const next = this.nextTimerAt();
      if (next === undefined || next > timeMs) break;
      this.step();
    }
    if (timeMs > this.#now) this.#now = timeMs;
  }

  /** Advances by `ms`, firing what falls due. */
  advance(ms: number): void {
    this.runUntil(this.#now + ms);
  }

  /** Fires timers until none is left; throws after `maxTimers` so a periodic timer cannot hang a test. */
  runUntilIdle(maxTimers = 1_000_000): void {
    for (let i = 0; i < maxTimers; i++) {
      if (!this.step()) return;
    }
    throw new Error(`VirtualClock.runUntilIdle: still busy after ${maxTimers} timers`);
  }

  #dropCleared(): void {
    while (this.#heap.length > 0 && (this.#heap[0] as Timer).callback === undefined) this.#pop();
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, heap[parent] as Timer)) break;
      heap[i] = heap[parent] as Timer;
      i = parent;
    }
    heap[i] = timer;
  }

  #pop(): Timer | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && before(heap[right] as Timer, heap[left] as Timer) ? right : left;
      if (!before(heap[child] as Timer, last)) break;
      heap[i] = heap[child] as Timer;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
