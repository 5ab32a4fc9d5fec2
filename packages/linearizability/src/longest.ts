/** For each operation, the longest partial linearization seen that contains it. */
export class LongestTracker {
  private readonly length: Int32Array;
  private readonly best: (Int32Array | undefined)[];

  constructor(n: number) {
    this.length = new Int32Array(n);
    this.best = new Array<Int32Array | undefined>(n).fill(undefined);
  }

  record(stackNode: Int32Array, depth: number, opOf: Int32Array): void {
    let seq: Int32Array | undefined;
    for (let i = 0; i < depth; i++) {
      const id = opOf[stackNode[i] as number] as number;
      if ((this.length[id] as number) >= depth) continue;
      if (seq === undefined) {
        seq = new Int32Array(depth);
        for (let j = 0; j < depth; j++) seq[j] = opOf[stackNode[j] as number] as number;
      }
      this.length[id] = depth;
      this.best[id] = seq;
    }
  }

  /** The distinct sequences still best for some operation, longest first (ties: by first such operation). */
  result(): Int32Array[] {
    const seen = new Set<Int32Array>();
    const out: Int32Array[] = [];
    for (const seq of this.best) {
      if (seq !== undefined && !seen.has(seq)) {
        seen.add(seq);
        out.push(seq);
      }
    }
    return out.sort((a, b) => b.length - a.length);
  }
}
