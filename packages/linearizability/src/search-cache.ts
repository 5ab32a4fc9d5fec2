import type { LinearizedSet } from './bitset.js';
import type { Model } from './types.js';

/**
 * The configurations (linearized set, state) the search has reached, with what they prove.
 * A configuration the search has left (backtracked out of) has no linearization, and neither
 * has any configuration it dominates: same state, same returned operations linearized, and a
 * superset of its pending (unknown-outcome) operations linearized. (If the bigger one had a
 * linearization, so would the smaller: put its extra pending operations at the very end,
 * where they are always legal.) Configurations still on the search path prove nothing yet.
 */
export interface SearchCache<S> {
  /**
   * Records `(set, state)` as entered, returning its entry (to `leave` later), or -1 if it was
   * reached before or is dominated by a configuration already left.
   */
  enter(set: LinearizedSet, state: S): number;
  /** The search backtracked out of `entry`: it has no linearization. */
  leave(entry: number): void;
}

/**
 * Picks the cache for a model: with no custom `equal`, states are told apart by SameValueZero
 * (a `Map` gives each distinct state a small id) and configurations live in a flat table;
 * otherwise a list per (set hash ^ state hash), compared with `equal`.
 */
export function createCache<S, I, O>(model: Model<S, I, O>, set: LinearizedSet): SearchCache<S> {
  return model.equal === undefined
    ? new ConfigTable<S>(set)
    : new EqualityCache<S>(model.equal.bind(model), model.hash?.bind(model));
}

/** True if the set's returned part equals `words[base ..]` and its pending part contains `words[base + c ..]`'s. */
function covers(set: LinearizedSet, words: Uint32Array, base: number): boolean {
  const c = set.completed;
  for (let i = 0; i < c.length; i++) if (words[base + i] !== c[i]) return false;
  const p = set.pending;
  const pbase = base + c.length;
  for (let i = 0; i < p.length; i++) {
    if (((words[pbase + i] as number) & ~(p[i] as number)) !== 0) return false;
  }
  return true;
}

/**
 * Open addressing with linear probing over typed arrays, so millions of configurations cost
 * a few bytes each and no garbage: entry e's sets are `words[e*W .. e*W+W)`, returned part
 * first, then the pending part.
 */
class ConfigTable<S> implements SearchCache<S> {
  private readonly stateIds = new Map<S, number>();
  private readonly width: number;
  private slots = new Int32Array(1 << 12);
  private entryHash = new Int32Array(1 << 11);
  private entryState = new Int32Array(1 << 11);
  private active = new Uint8Array(1 << 11);
  private words: Uint32Array;
  private count = 0;

  constructor(set: LinearizedSet) {
    this.width = set.completed.length + set.pending.length;
    this.words = new Uint32Array((1 << 11) * this.width);
  }

  enter(set: LinearizedSet, state: S): number {
    let stateId = this.stateIds.get(state);
    if (stateId === undefined) {
      stateId = this.stateIds.size;
      this.stateIds.set(state, stateId);
    }
    const hash = (set.hash ^ Math.imul(stateId + 1, 0x9e3779b1)) | 0;
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const e = (this.slots[slot] as number) - 1;
      if (e < 0) break;
      if (this.entryHash[e] !== hash || this.entryState[e] !== stateId || this.active[e] === 1)
        continue;
      if (covers(set, this.words, e * this.width)) return -1;
    }
    return this.insert(hash, stateId, set);
  }

  leave(entry: number): void {
    this.active[entry] = 0;
  }

  private insert(hash: number, stateId: number, set: LinearizedSet): number {
    if (this.count === this.entryHash.length) this.growEntries();
    if (2 * (this.count + 1) > this.slots.length) this.growSlots();
    const e = this.count++;
    this.entryHash[e] = hash;
    this.entryState[e] = stateId;
    this.active[e] = 1;
    this.words.set(set.completed, e * this.width);
    this.words.set(set.pending, e * this.width + set.completed.length);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = e + 1;
    return e;
  }

  private growEntries(): void {
    const n = this.entryHash.length * 2;
    const hashes = new Int32Array(n);
    hashes.set(this.entryHash);
    this.entryHash = hashes;
    const states = new Int32Array(n);
    states.set(this.entryState);
    this.entryState = states;
    const active = new Uint8Array(n);
    active.set(this.active);
    this.active = active;
    const words = new Uint32Array(n * this.width);
    words.set(this.words);
    this.words = words;
  }

  private growSlots(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let e = 0; e < this.count; e++) {
      let slot = (this.entryHash[e] as number) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = e + 1;
    }
    this.slots = slots;
  }
}

interface ListEntry<S> {
  readonly words: Uint32Array;
  readonly state: S;
  active: boolean;
}

class EqualityCache<S> implements SearchCache<S> {
  private readonly buckets = new Map<number, ListEntry<S>[]>();
  private readonly entries: ListEntry<S>[] = [];

  constructor(
    private readonly equal: (a: S, b: S) => boolean,
    private readonly hash: ((state: S) => number) | undefined,
  ) {}

  enter(set: LinearizedSet, state: S): number {
    const key =
      this.hash === undefined
        ? set.hash
        : (set.hash ^ Math.imul(this.hash(state) | 0, 0x9e3779b1)) | 0;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(key, bucket);
    }
    for (const cached of bucket) {
      if (!cached.active && covers(set, cached.words, 0) && this.equal(cached.state, state))
        return -1;
    }
    const words = new Uint32Array(set.completed.length + set.pending.length);
    words.set(set.completed);
    words.set(set.pending, set.completed.length);
    const entry = { words, state, active: true };
    bucket.push(entry);
    this.entries.push(entry);
    return this.entries.length - 1;
  }

  leave(entry: number): void {
    (this.entries[entry] as ListEntry<S>).active = false;
  }
}
