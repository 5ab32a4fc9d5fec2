import type { Model } from '../types.js';
import { describeDifference, quote } from './describe.js';
import { type KvInput, type KvOutput, kvModel } from './kv.js';
import { KvState } from './kv-state.js';

/** 32-bit FNV-1a of a key. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h;
}

/** One entry's share of the map's hash; the hash is the sum over entries, so it updates in O(1). */
function term(key: string, value: KvState): number {
  return Math.imul(hashKey(key) ^ value.id, 0x9e3779b1);
}

/**
 * The whole store in `kvMapModel`: every key's value, immutable. Keys whose value is `""` are
 * absent, so two maps with the same values are equal whatever path led to them, as far as the
 * values' hash-consing (`KvState`) tells.
 */
export class KvMapState {
  /** Key → value; a missing key holds `""`. */
  readonly values: ReadonlyMap<string, KvState>;
  /** A hash consistent with `equals`. */
  readonly hash: number;
  private readonly empty: KvState;

  private constructor(values: ReadonlyMap<string, KvState>, hash: number, empty: KvState) {
    this.values = values;
    this.hash = hash;
    this.empty = empty;
  }

  /** An empty store, with its own intern tables for the values. */
  static empty(): KvMapState {
    return new KvMapState(new Map(), 0, KvState.empty());
  }

  /** The value of `key` (`""` if it has none). */
  get(key: string): string {
    return this.values.get(key)?.value ?? '';
  }

  /** The store after `put` (`append: false`) or `append` of `text` to `key`. */
  write(key: string, text: string, append: boolean): KvMapState {
    const before = this.values.get(key) ?? this.empty;
    const after = append ? before.append(text) : before.put(text);
    if (after === before) return this;
    const values = new Map(this.values);
    let hash = this.values.has(key) ? this.hash - term(key, before) : this.hash;
    if (after.value === '') values.delete(key);
    else {
      values.set(key, after);
      hash += term(key, after);
    }
    return new KvMapState(values, hash | 0, this.empty);
  }

  equals(other: KvMapState): boolean {
    if (this === other) return true;
    if (this.hash !== other.hash || this.values.size !== other.values.size) return false;
    for (const [key, value] of this.values) if (other.values.get(key) !== value) return false;
    return true;
  }
}

const DESCRIBED_KEYS = 8;

/**
 * The labs' key/value model over the whole store, not partitioned by key: one history, one
 * search, for checks across keys (the same operations and rules as `kvModel`, which checks each
 * key on its own and is far faster where that is enough). The state is a `KvMapState`, compared
 * with `equal` and `hash`; each write copies the map, so a step costs O(keys). No look-ahead:
 * a put resets one key, not the state.
 */
export const kvMapModel: Model<KvMapState, KvInput, KvOutput> = {
  name: 'kv-map',
  init: () => KvMapState.empty(),
  step(state, input, output) {
    switch (input.op) {
      case 'get':
        return { ok: output === undefined || output === state.get(input.key), state };
      case 'put':
        return { ok: true, state: state.write(input.key, input.value, false) };
      case 'append':
        return { ok: true, state: state.write(input.key, input.value, true) };
      case 'appendReturnsOld':
        return {
          ok: output === undefined || output === state.get(input.key),
          state: state.write(input.key, input.value, true),
        };
      default: {
        const unreachable: never = input;
        throw new TypeError(`not a kv input: ${JSON.stringify(unreachable)}`);
      }
    }
  },
  readOnly: (input) => input.op === 'get',
  equal: (a, b) => a.equals(b),
  hash: (state) => state.hash,
  // Defined on kvModel, which has no state-dependent parts in these three.
  validate: (input, output, pending) => kvModel.validate?.(input, output, pending),
  describeOperation: (input, output) =>
    kvModel.describeOperation?.(input, output) ?? JSON.stringify(input),
  describeState(state) {
    const keys = [...state.values.keys()].sort();
    const shown = keys
      .slice(0, DESCRIBED_KEYS)
      .map((key) => `${JSON.stringify(key)}: ${quote(state.get(key))}`);
    if (keys.length > DESCRIBED_KEYS) shown.push(`… ${keys.length - DESCRIBED_KEYS} more`);
    return `{${shown.join(', ')}}`;
  },
  describeMismatch: (state, input, output) =>
    output === undefined ? undefined : describeDifference(state.get(input.key), output),
};
