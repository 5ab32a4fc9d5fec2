/**
 * The set of linearized operations of one partition, kept as two bitsets: operations that
 * returned, and operations with an unknown outcome (pending), which the cache treats
 * differently (see search-cache.ts). The hashes are maintained incrementally: each operation
 * has a fixed pseudo-random code and a hash is the XOR of the members' codes (Zobrist
 * hashing), so adding or removing one costs O(1). `hash` covers the whole set, so that
 * configurations differing only in which pending operations were placed do not collide;
 * `completedHash` covers the returned part, which is what dominance compares.
 */
export class LinearizedSet {
  readonly completed: Uint32Array;
  readonly pending: Uint32Array;
  /** Of every member. */
  hash = 0;
  /** Of the members that returned. */
  completedHash = 0;
  /** How many members are pending. */
  pendingCount = 0;
  /** Per operation id: its bit position in `completed` or `pending`. */
  private readonly slot: Int32Array;
  private readonly isPending: Uint8Array;

  constructor(ops: readonly { readonly pending: boolean }[]) {
    const n = ops.length;
    this.slot = new Int32Array(n);
    this.isPending = new Uint8Array(n);
    let done = 0;
    let open = 0;
    for (let id = 0; id < n; id++) {
      if ((ops[id] as { pending: boolean }).pending) {
        this.isPending[id] = 1;
        this.slot[id] = open++;
      } else {
        this.slot[id] = done++;
      }
    }
    const words = new Uint32Array(wordsFor(done) + wordsFor(open));
    this.completed = words.subarray(0, wordsFor(done));
    this.pending = words.subarray(wordsFor(done));
  }

  /** Adds `id` (which must be absent). */
  add(id: number): void {
    const bit = this.slot[id] as number;
    const words = this.isPending[id] === 1 ? this.pending : this.completed;
    words[bit >>> 5] = (words[bit >>> 5] as number) | (1 << (bit & 31));
    this.toggle(id, 1);
  }

  /** Removes `id` (which must be present). */
  remove(id: number): void {
    const bit = this.slot[id] as number;
    const words = this.isPending[id] === 1 ? this.pending : this.completed;
    words[bit >>> 5] = (words[bit >>> 5] as number) & ~(1 << (bit & 31));
    this.toggle(id, -1);
  }

  private toggle(id: number, delta: 1 | -1): void {
    const code = idCode(id);
    this.hash ^= code;
    if (this.isPending[id] === 1) this.pendingCount += delta;
    else this.completedHash ^= code;
  }

  has(id: number): boolean {
    const bit = this.slot[id] as number;
    const words = this.isPending[id] === 1 ? this.pending : this.completed;
    return ((words[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }
}

function wordsFor(bits: number): number {
  return (bits + 31) >>> 5;
}

/** MurmurHash3's 32-bit finalizer over id + 1: a fixed, well-mixed code per operation id. */
export function idCode(id: number): number {
  let h = (id + 1) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
