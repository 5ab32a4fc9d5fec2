import type { ApplyContext, StateMachine } from '../../src/index.js';

/** The ops of the test machine: a tiny string map. */
export type KvOp =
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly type: 'append'; readonly key: string; readonly value: string }
  /** Answers with the value and changes nothing: an op sent through the log. */
  | { readonly type: 'get'; readonly key: string };

/** The snapshot: entries sorted by key, so equal maps always give equal bytes. */
export type KvSnapshot = readonly (readonly [string, string])[];

/**
 * A deterministic map of strings; every op answers with the key's value after it. `applied`
 * records each (index, op) this replica applied since it started (not part of the state), so
 * tests can count how often an op took effect.
 */
export class KvMachine implements StateMachine<KvOp, string, KvSnapshot> {
  readonly data = new Map<string, string>();
  readonly applied: { index: number; op: KvOp }[] = [];
  restores = 0;

  apply(op: KvOp, context: ApplyContext): string {
    this.applied.push({ index: context.index, op });
    const old = this.data.get(op.key) ?? '';
    switch (op.type) {
      case 'put':
        this.data.set(op.key, op.value);
        return op.value;
      case 'append':
        this.data.set(op.key, old + op.value);
        return old + op.value;
      case 'get':
        return old;
    }
  }

  snapshot(): KvSnapshot {
    return [...this.data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  restore(snapshot: KvSnapshot): void {
    this.restores++;
    this.data.clear();
    for (const [key, value] of snapshot) this.data.set(key, value);
  }

  get(key: string): string {
    return this.data.get(key) ?? '';
  }
}
