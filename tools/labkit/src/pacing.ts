import type { Clock, Random } from '@flotilla/transport';
import { MEAN_OP_PAUSE_MS } from './constants.js';

/**
 * Keeps a tight client loop from holding virtual time still.
 *
 * In the lab an operation costs real time even on a reliable network; in virtual time a
 * reliable call to a handler that answers at once takes none, so a loop that runs "until the
 * test says stop" would spin at one instant and the test's sleep would never end. A turn that
 * took no virtual time therefore pauses a uniform random 0–2 × `meanPauseMs` (a few hundred
 * operations a second per client); a turn that did take time (Raft round trips on the clock,
 * the unreliable network's delays, a clerk's retry sleep) goes on at once, as in the lab.
 *
 * The rate is kept low on purpose: the 1 s linearizability check's cost per key grows with the
 * square of the operations on it (see kvsrv's lab harness for the measurements behind 2 ms).
 */
export class Pacer {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly meanPauseMs: number;

  constructor(clock: Clock, random: Random, meanPauseMs: number = MEAN_OP_PAUSE_MS) {
    if (!(meanPauseMs > 0)) throw new RangeError(`meanPauseMs must be > 0, got ${meanPauseMs}`);
    this.#clock = clock;
    this.#random = random;
    this.meanPauseMs = meanPauseMs;
  }

  /** Ends a turn that began at virtual time `turnStart` (pauses only if no time passed). */
  async pace(turnStart: number): Promise<void> {
    if (this.#clock.now() !== turnStart) return;
    const ms = this.#random.next() * 2 * this.meanPauseMs;
    await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, ms));
  }

  /** Runs one turn of a loop: `body`, then `pace`. */
  async turn<T>(body: () => Promise<T>): Promise<T> {
    const turnStart = this.#clock.now();
    const value = await body();
    await this.pace(turnStart);
    return value;
  }
}
