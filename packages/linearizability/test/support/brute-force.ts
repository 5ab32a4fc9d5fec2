import type { Model, Operation } from '../../src/index.js';

/**
 * The definition of linearizability, checked by trying every order: some permutation of the
 * operations respects real time (a before b whenever a returns before b is called) and is
 * legal step by step. Operations with no return may also be left out (they never took
 * effect). For histories of a handful of operations only.
 */
export function bruteForceLinearizable<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
): boolean {
  const n = ops.length;
  const ret = (op: Operation<I, O>): number =>
    op.return === undefined || op.return === null ? Number.POSITIVE_INFINITY : op.return;
  const used = new Array<boolean>(n).fill(false);
  const go = (state: S): boolean => {
    // Done when every completed operation is placed; pending ones may be left out.
    if (ops.every((op, i) => used[i] || ret(op) === Number.POSITIVE_INFINITY)) return true;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      const op = ops[i] as Operation<I, O>;
      // Every unplaced operation that returned before op was called must come first.
      if (ops.some((other, j) => j !== i && !used[j] && ret(other) < op.call)) continue;
      const pending = ret(op) === Number.POSITIVE_INFINITY;
      const result = model.step(state, op.input, pending ? undefined : op.output);
      if (!result.ok) continue;
      used[i] = true;
      const ok = go(result.state);
      used[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return go(model.init());
}
