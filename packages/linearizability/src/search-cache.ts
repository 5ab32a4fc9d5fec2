import { int32Arrays } from './arena.js';
import type { LinearizedSet } from './bitset.js';
import type { Model } from './types.js';

/**
 * The configurations (linearized set, state) the search has reached, with what they prove.
 * A configuration the search has left (backtracked out of) has no linearization, and neither
 * has any configuration it dominates: same state, same returned operations linearized, and a
 * superset of its pending (unknown-outcome) operations linearized. (If the bigger one had a
 * linearization, so would the smaller: put its extra pending operations at the very end,
 * where they are always legal.) Configurations still on the search path prove nothing yet;
 * none can be reached again, as every step adds an operation.
 *
 * A configuration is looked up exactly, by a hash of the whole set and the state, in O(1).
 * Dominance is checked against the `DOMINANCE_WALK` configurations left most recently with
 * the same returned set and state: skipping the check only costs search, never soundness, and
 * bounding it keeps a lookup O(1) where thousands of configurations differ only in their
 * pending operations.
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

export const DOMINANCE_WALK = 8;

/**
 * Picks the cache for a model: with no custom `equal`, states are told apart by SameValueZero
 * (a `Map` gives each distinct state a small id) and configurations live in flat tables;
 * otherwise lists keyed by (set hash ^ state hash), compared with `equal`.
 */
export function createCache<S, I, O>(
  model: Model<S, I, O>,
  set: LinearizedSet,
  operations: number,
): SearchCache<S> {
  return model.equal === undefined
    ? new ConfigTable<S>(set, operations)
    : new EqualityCache<S>(model.equal.bind(model), model.hash?.bind(model));
}

/**
 * True if the set's returned part equals `words[base ..]` and its pending part contains
 * `words[base + c ..]`'s (with `exact`, equals it).
 */
function covers(set: LinearizedSet, words: Uint32Array, base: number, exact: boolean): boolean {
  const c = set.completed;
  for (let i = 0; i < c.length; i++) if (words[base + i] !== c[i]) return false;
  const p = set.pending;
  const pbase = base + c.length;
  for (let i = 0; i < p.length; i++) {
    const w = words[pbase + i] as number;
    if (exact ? w !== p[i] : (w & ~(p[i] as number)) !== 0) return false;
  }
  return true;
}

const mix = (setHash: number, stateHash: number): number =>
  (setHash ^ Math.imul(stateHash + 1, 0x9e3779b1)) | 0;

/**
 * Open addressing with linear probing over typed arrays, so millions of configurations cost
 * a few bytes each and no garbage: entry e's sets are `words[e*W .. e*W+W)`, returned part
 * first, then the pending part. `slots` finds an entry by its full hash; `heads` finds, by
 * (returned hash, state), the most recently left entry of that kind, and `leftNext` chains
 * it to the one left before.
 */
class ConfigTable<S> implements SearchCache<S> {
  private readonly stateIds = new Map<S, number>();
  private readonly width: number;
  /** Whether the partition has pending operations at all: else dominance is equality. */
  private readonly dominance: boolean;
  private slots: Int32Array;
  private heads: Int32Array;
  private headCount = 0;
  private entryHash: Int32Array;
  private entryCompleted: Int32Array;
  private entryState: Int32Array;
  private leftNext: Int32Array;
  private words: Uint32Array;
  private count = 0;

  /** `operations`: the partition's size, a guess at how many configurations it reaches. */
  constructor(set: LinearizedSet, operations: number) {
    this.width = set.completed.length + set.pending.length;
    this.dominance = set.pending.length > 0;
    // Sized for a search that never backtracks (one configuration per operation), so a
    // small history costs little to set up; the arrays double as needed.
    let entries = 64;
    while (entries < operations + 1) entries *= 2;
    const heads = this.dominance ? 2 * entries : 0;
    [this.slots, this.heads, this.entryHash, this.entryCompleted, this.entryState, this.leftNext] =
      int32Arrays(2 * entries, heads, entries, entries, entries, entries);
    this.words = new Uint32Array(entries * this.width);
  }

  enter(set: LinearizedSet, state: S): number {
    let stateId = this.stateIds.get(state);
    if (stateId === undefined) {
      stateId = this.stateIds.size;
      this.stateIds.set(state, stateId);
    }
    const hash = mix(set.hash, stateId);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const e = (this.slots[slot] as number) - 1;
      if (e < 0) break;
      if (this.entryHash[e] !== hash || this.entryState[e] !== stateId) continue;
      if (covers(set, this.words, e * this.width, true)) return -1;
    }
    const completed = mix(set.completedHash, stateId);
    if (this.dominance && set.pendingCount > 0) {
      let e = (this.heads[this.headSlot(completed, stateId)] as number) - 1;
      for (let walked = 0; e >= 0 && walked < DOMINANCE_WALK; walked++) {
        if (covers(set, this.words, e * this.width, false)) return -1;
        e = this.leftNext[e] as number;
      }
    }
    return this.insert(hash, completed, stateId, set);
  }

  leave(entry: number): void {
    if (!this.dominance) return;
    const completed = this.entryCompleted[entry] as number;
    const stateId = this.entryState[entry] as number;
    const slot = this.headSlot(completed, stateId);
    const head = (this.heads[slot] as number) - 1;
    this.leftNext[entry] = head;
    this.heads[slot] = entry + 1;
    if (head < 0 && 2 * ++this.headCount > this.heads.length) this.growHeads();
  }

  /** The slot of `heads` holding this (returned hash, state)'s chain, or the empty one for it. */
  private headSlot(completed: number, stateId: number): number {
    const mask = this.heads.length - 1;
    for (let slot = completed & mask; ; slot = (slot + 1) & mask) {
      const e = (this.heads[slot] as number) - 1;
      if (e < 0) return slot;
      if (this.entryCompleted[e] === completed && this.entryState[e] === stateId) return slot;
    }
  }

  private insert(hash: number, completed: number, stateId: number, set: LinearizedSet): number {
    if (this.count === this.entryHash.length) this.growEntries();
    if (2 * (this.count + 1) > this.slots.length) this.growSlots();
    const e = this.count++;
    this.entryHash[e] = hash;
    this.entryCompleted[e] = completed;
    this.entryState[e] = stateId;
    this.leftNext[e] = -1;
    // Sets are a few words: a loop beats `set()` on subarrays.
    const words = this.words;
    let at = e * this.width;
    const { completed: c, pending: p } = set;
    for (let i = 0; i < c.length; i++) words[at++] = c[i] as number;
    for (let i = 0; i < p.length; i++) words[at++] = p[i] as number;
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = e + 1;
    return e;
  }

  private growEntries(): void {
    const n = this.entryHash.length * 2;
    const [hash, completed, state, leftNext] = int32Arrays(n, n, n, n);
    hash.set(this.entryHash);
    completed.set(this.entryCompleted);
    state.set(this.entryState);
    leftNext.set(this.leftNext);
    this.entryHash = hash;
    this.entryCompleted = completed;
    this.entryState = state;
    this.leftNext = leftNext;
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

  private growHeads(): void {
    const old = this.heads;
    this.heads = new Int32Array(old.length * 2);
    const mask = this.heads.length - 1;
    for (const stored of old) {
      const e = stored - 1;
      if (e < 0) continue;
      let slot = (this.entryCompleted[e] as number) & mask;
      while (this.heads[slot] !== 0) slot = (slot + 1) & mask;
      this.heads[slot] = e + 1;
    }
  }
}

interface ListEntry<S> {
  readonly words: Uint32Array;
  readonly state: S;
  /** The entry left before it with the same returned set and state hash. */
  leftNext: ListEntry<S> | undefined;
  readonly completedKey: number;
}

/** The same two lookups for models with their own `equal`, over Maps of lists. */
class EqualityCache<S> implements SearchCache<S> {
  private readonly buckets = new Map<number, ListEntry<S>[]>();
  private readonly heads = new Map<number, ListEntry<S>>();
  private readonly entries: ListEntry<S>[] = [];

  constructor(
    private readonly equal: (a: S, b: S) => boolean,
    private readonly hash: ((state: S) => number) | undefined,
  ) {}

  enter(set: LinearizedSet, state: S): number {
    const stateHash = this.hash === undefined ? 0 : this.hash(state) | 0;
    const key = mix(set.hash, stateHash);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(key, bucket);
    }
    for (const cached of bucket) {
      if (covers(set, cached.words, 0, true) && this.equal(cached.state, state)) return -1;
    }
    const completedKey = mix(set.completedHash, stateHash);
    if (set.pendingCount > 0) {
      let cached = this.heads.get(completedKey);
      for (let walked = 0; cached !== undefined && walked < DOMINANCE_WALK; walked++) {
        if (covers(set, cached.words, 0, false) && this.equal(cached.state, state)) return -1;
        cached = cached.leftNext;
      }
    }
    const words = new Uint32Array(set.completed.length + set.pending.length);
    words.set(set.completed);
    words.set(set.pending, set.completed.length);
    const entry: ListEntry<S> = { words, state, leftNext: undefined, completedKey };
    bucket.push(entry);
    this.entries.push(entry);
    return this.entries.length - 1;
  }

  leave(entry: number): void {
    const left = this.entries[entry] as ListEntry<S>;
    left.leftNext = this.heads.get(left.completedKey);
    this.heads.set(left.completedKey, left);
  }
}
