import type { LinearizedSet } from './bitset.js';
import type { HistoryOperation, Model } from './types.js';

type LookaheadHooks<S, I, O> = NonNullable<Model<S, I, O>['lookahead']>;

/**
 * The search's use of `model.lookahead`: in a configuration, a called operation X that can
 * never become legal dooms the branch. X can become legal only if `mayReach` allows it from
 * the current state, or from the state left by a resetting operation P that could still come
 * before X: P not linearized yet and called no later than X returns (a call sorts before a
 * return at equal times, as in the search). A reset's state does not depend on the state
 * before it, so it is computed once from `init()`.
 */
export class Lookahead<S, I, O> {
  private readonly hooks: LookaheadHooks<S, I, O>;
  private readonly ops: readonly HistoryOperation<I, O>[];
  /** Ids of the resetting operations, by call time, and the state each leaves. */
  private readonly resets: Int32Array;
  private readonly resetStates: S[];
  /** 1 for the operations `observes` picks out. */
  readonly observer: Uint8Array;

  private constructor(model: Model<S, I, O>, ops: readonly HistoryOperation<I, O>[]) {
    this.hooks = model.lookahead as LookaheadHooks<S, I, O>;
    this.ops = ops;
    const resets = ops
      .map((op, id) => ({ op, id }))
      .filter(({ op }) => this.hooks.resets(op.input))
      .sort((a, b) => a.op.call - b.op.call || a.id - b.id);
    this.resets = Int32Array.from(resets, (r) => r.id);
    this.observer = Uint8Array.from(ops, (op) =>
      this.hooks.observes(op.input, op.output) ? 1 : 0,
    );
    const base = model.init();
    this.resetStates = resets.map(({ op }) => model.step(base, op.input, op.output).state);
  }

  static create<S, I, O>(
    model: Model<S, I, O>,
    ops: readonly HistoryOperation<I, O>[],
  ): Lookahead<S, I, O> | undefined {
    return model.lookahead === undefined ? undefined : new Lookahead(model, ops);
  }

  /** Whether observer `id` could become legal from `state` without a reset (`mayReach`). */
  reachable(state: S, id: number): boolean {
    const op = this.ops[id] as HistoryOperation<I, O>;
    return this.hooks.mayReach(state, op.input, op.output);
  }

  /** False if operation `id`, not linearized yet, provably can never become legal. */
  mayBecomeLegal(state: S, id: number, linearized: LinearizedSet): boolean {
    if (this.observer[id] === 0) return true;
    const op = this.ops[id] as HistoryOperation<I, O>;
    if (this.hooks.mayReach(state, op.input, op.output)) return true;
    for (let k = 0; k < this.resets.length; k++) {
      const reset = this.resets[k] as number;
      if ((this.ops[reset] as HistoryOperation<I, O>).call > op.return) break;
      if (reset === id || linearized.has(reset)) continue;
      if (this.hooks.mayReach(this.resetStates[k] as S, op.input, op.output)) return true;
    }
    return false;
  }
}
