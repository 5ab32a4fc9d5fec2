import type { Clock, Random, TimerHandle } from '@flotilla/transport';
import { NO_FAULTS, type ResolvedLinkFaults } from './faults.js';

/** Counters of one direction. `dropped` counts every message not delivered, for any reason. */
export interface PipeStats {
  /** Messages pushed into the pipe. */
  received: number;
  /** Deliveries (a duplicated message counts twice). */
  forwarded: number;
  /** Messages never delivered: dropped by chance, blackholed, or pending when cleared. */
  dropped: number;
  /** Of `dropped`, the ones a blackhole swallowed. */
  blackholed: number;
  /** Extra copies delivered. */
  duplicated: number;
  /** Copies delivered later than the push (a delay, a reorder hold, or queued behind one). */
  delayed: number;
  /** Copies held back so that later ones could overtake them. */
  reordered: number;
}

export function emptyPipeStats(): PipeStats {
  return {
    received: 0,
    forwarded: 0,
    dropped: 0,
    blackholed: 0,
    duplicated: 0,
    delayed: 0,
    reordered: 0,
  };
}

export interface FaultPipeOptions<T> {
  readonly random: Random;
  readonly clock: Clock;
  /** Called once per delivered copy, in delivery order. */
  readonly deliver: (message: T) => void;
  /** Counters to add to (a proxy shares one per direction among its connections). */
  readonly stats?: PipeStats;
  readonly faults?: ResolvedLinkFaults;
}

interface Queued<T> {
  readonly at: number;
  readonly message: T;
}

/**
 * Applies `LinkFaults` to the messages of one direction. Given the same Random, Clock and
 * pushes, it delivers the same messages at the same times: it draws from the Random only for
 * the faults that are on, in a fixed order per message (drop, duplicate, then per copy: delay,
 * reorder, hold).
 *
 * Invariant: copies not chosen for reorder are delivered in push order, each no earlier than
 * its own delay (one FIFO with one timer, since real timers due at the same millisecond need
 * not fire in the order they were set). With no delay and nothing queued, a copy is delivered
 * synchronously inside `push`.
 */
export class FaultPipe<T> {
  readonly stats: PipeStats;
  readonly #random: Random;
  readonly #clock: Clock;
  readonly #deliver: (message: T) => void;
  #faults: ResolvedLinkFaults;
  readonly #fifo: Queued<T>[] = [];
  #fifoTimer: TimerHandle | undefined;
  readonly #held = new Set<TimerHandle>();

  constructor(options: FaultPipeOptions<T>) {
    this.#random = options.random;
    this.#clock = options.clock;
    this.#deliver = options.deliver;
    this.stats = options.stats ?? emptyPipeStats();
    this.#faults = options.faults ?? NO_FAULTS;
  }

  get faults(): ResolvedLinkFaults {
    return this.#faults;
  }

  /** Messages accepted and not yet delivered. */
  get pending(): number {
    return this.#fifo.length + this.#held.size;
  }

  /** New faults apply to later pushes; a blackhole also drops what is pending. */
  setFaults(faults: ResolvedLinkFaults): void {
    this.#faults = faults;
    if (faults.blackhole) this.clear();
  }

  push(message: T): void {
    const f = this.#faults;
    this.stats.received++;
    if (f.blackhole) {
      this.stats.dropped++;
      this.stats.blackholed++;
      return;
    }
    if (f.drop > 0 && this.#random.next() < f.drop) {
      this.stats.dropped++;
      return;
    }
    const copies = f.duplicate > 0 && this.#random.next() < f.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) this.#schedule(message, f);
  }

  /** Drops every pending message (counted as dropped); returns how many. */
  clear(): number {
    const n = this.pending;
    for (const timer of this.#held) this.#clock.clearTimeout(timer);
    this.#held.clear();
    if (this.#fifoTimer !== undefined) this.#clock.clearTimeout(this.#fifoTimer);
    this.#fifoTimer = undefined;
    this.#fifo.length = 0;
    this.stats.dropped += n;
    return n;
  }

  #schedule(message: T, f: ResolvedLinkFaults): void {
    const span = f.delayMaxMs - f.delayMinMs;
    const delay = f.delayMinMs + (span > 0 ? this.#random.next() * span : 0);
    if (f.reorder > 0 && this.#random.next() < f.reorder) {
      const hold = this.#random.next() * f.reorderMaxHoldMs;
      this.stats.reordered++;
      this.stats.delayed++;
      const timer = this.#clock.setTimeout(() => {
        this.#held.delete(timer);
        this.#emit(message);
      }, delay + hold);
      this.#held.add(timer);
      return;
    }
    const now = this.#clock.now();
    const tail = this.#fifo.at(-1);
    if (tail === undefined && delay <= 0) {
      this.#emit(message);
      return;
    }
    this.stats.delayed++;
    this.#fifo.push({ at: Math.max(now + delay, tail?.at ?? now), message });
    if (this.#fifoTimer === undefined) this.#armFifo();
  }

  #armFifo(): void {
    const head = this.#fifo[0];
    if (head === undefined) return;
    this.#fifoTimer = this.#clock.setTimeout(
      () => this.#drainFifo(),
      Math.max(0, head.at - this.#clock.now()),
    );
  }

  // The head is due (its timer fired); so is everything behind it due by now.
  #drainFifo(): void {
    this.#fifoTimer = undefined;
    const now = this.#clock.now();
    let first = true;
    for (;;) {
      const head = this.#fifo[0];
      if (head === undefined || (!first && head.at > now)) break;
      first = false;
      this.#fifo.shift();
      this.#emit(head.message);
      // `deliver` may have cleared the pipe (a close): stop, nothing is left to arm.
      if (this.#fifoTimer !== undefined) return;
    }
    if (this.#fifoTimer === undefined) this.#armFifo();
  }

  #emit(message: T): void {
    this.stats.forwarded++;
    this.#deliver(message);
  }
}
