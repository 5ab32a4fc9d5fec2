/**
 * Which directed links of a CoreNet carry messages. A cut link loses what is sent over it: the
 * sender sees the RPC fail, as it would see a lost message or a timeout.
 */
export class Links {
  readonly n: number;
  readonly #cut = new Set<string>();

  constructor(n: number) {
    this.n = n;
  }

  linked(from: number, to: number): boolean {
    return !this.#cut.has(`${from}>${to}`);
  }

  cut(from: number, to: number): void {
    this.#cut.add(`${from}>${to}`);
  }

  /** Cuts every link between the given groups (nodes in no group keep their links). */
  partition(...groups: readonly (readonly number[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cut(x, y);
      }
    }
  }

  isolate(i: number): void {
    for (let j = 0; j < this.n; j++) {
      if (j === i) continue;
      this.cut(i, j);
      this.cut(j, i);
    }
  }

  heal(): void {
    this.#cut.clear();
  }
}
