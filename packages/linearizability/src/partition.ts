import { HistoryError } from './errors.js';
import type { HistoryOperation, Model } from './types.js';

export interface Partition<I, O> {
  readonly key: string | number | null;
  /** In call order (ties by history index). */
  readonly ops: HistoryOperation<I, O>[];
}

/** Orders partition keys: numbers ascending, then strings by UTF-16 code units (not locale). */
export function compareKeys(a: string | number | null, b: string | number | null): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  if (a === b) return 0;
  return (a ?? '') < (b ?? '') ? -1 : 1;
}

function byCall<I, O>(a: HistoryOperation<I, O>, b: HistoryOperation<I, O>): number {
  return a.call - b.call || a.index - b.index;
}

/** Splits a history by the model's partition key (P-compositionality); one partition if none. */
export function partitionHistory<S, I, O>(
  model: Model<S, I, O>,
  history: readonly HistoryOperation<I, O>[],
): Partition<I, O>[] {
  const keyOf = model.partitionKey;
  if (keyOf === undefined) return [{ key: null, ops: [...history].sort(byCall) }];
  const groups = new Map<string | number, HistoryOperation<I, O>[]>();
  for (const op of history) {
    const key = keyOf.call(model, op.input);
    if (typeof key !== 'string' && (typeof key !== 'number' || Number.isNaN(key))) {
      throw new HistoryError('the model gave no partition key for this operation', op.index);
    }
    let group = groups.get(key);
    if (group === undefined) {
      group = [];
      groups.set(key, group);
    }
    group.push(op);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => compareKeys(a, b))
    .map(([key, ops]) => ({ key, ops: ops.sort(byCall) }));
}
