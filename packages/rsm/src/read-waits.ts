/**
 * Reads that hold a read index and wait for this replica to apply that far. Kept in index
 * order, so releasing them as `lastApplied` grows takes them from the front.
 */
export class ReadWaits {
  #waiting: { readonly index: number; readonly run: () => void }[] = [];

  /** Runs `run` once `lastApplied` reaches `index` (at once if it already has). */
  add(index: number, lastApplied: number, run: () => void): void {
    if (index <= lastApplied) {
      run();
      return;
    }
    let at = this.#waiting.length;
    while (at > 0 && (this.#waiting[at - 1] as { index: number }).index > index) at--;
    this.#waiting.splice(at, 0, { index, run });
  }

  /** Runs every read whose index `lastApplied` has reached. */
  release(lastApplied: number): void {
    let n = 0;
    while (n < this.#waiting.length && (this.#waiting[n] as { index: number }).index <= lastApplied)
      n++;
    if (n === 0) return;
    const ready = this.#waiting.slice(0, n);
    this.#waiting = this.#waiting.slice(n);
    for (const read of ready) read.run();
  }

  clear(): void {
    this.#waiting = [];
  }

  get size(): number {
    return this.#waiting.length;
  }
}
