import type { StateMachine } from '@flotilla/rsm';

/** What a Put or Append does to the store; Gets are linearizable reads, not log entries. */
export type KvOp =
  | { readonly type: 'Put'; readonly key: string; readonly value: string }
  | { readonly type: 'Append'; readonly key: string; readonly value: string };

/**
 * The snapshot: `[key, value]` sorted by key (code units), so equal stores give equal bytes on
 * every replica whatever order their keys arrived in. rsm saves its duplicate table next to it.
 */
export type KvSnapshot = readonly (readonly [string, string])[];

/**
 * The key/value store every replica applies (the lab's `KVServer` map). Put and Append answer
 * `null`: Append returns nothing in Lab 4, and a `null` result keeps rsm's duplicate table
 * (which holds each client's latest result) small.
 *
 * Invariant: `apply` depends on the store and the op alone; a key that was written holds a
 * string (maybe `""`), a key never written is absent.
 */
export class KvMachine implements StateMachine<KvOp, null, KvSnapshot> {
  readonly #data = new Map<string, string>();

  apply(op: KvOp): null {
    const value = op.type === 'Put' ? op.value : (this.#data.get(op.key) ?? '') + op.value;
    this.#data.set(op.key, value);
    return null;
  }

  /** The value of `key`, or undefined if it was never written (the lab's `ErrNoKey`). */
  get(key: string): string | undefined {
    return this.#data.get(key);
  }

  /** Keys written so far. */
  get size(): number {
    return this.#data.size;
  }

  snapshot(): KvSnapshot {
    return [...this.#data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  restore(snapshot: KvSnapshot): void {
    this.#data.clear();
    for (const [key, value] of snapshot) this.#data.set(key, value);
  }
}
