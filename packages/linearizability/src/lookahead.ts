import { uint8Arrays } from './arena.js';
import type { LinearizedSet } from './bitset.js';
import type { HistoryOperation, Model } from './types.js';

type LookaheadHooks<S, I, O> = NonNullable<Model<S, I, O>['lookahead']>;

/** Largest (resets × operations) table of answers from reset states kept: 4 MB. */
const MAX_RESET_TABLE = 4 << 20;

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
  /**
   * `mayReach` is pure, and the search asks about one (state, observer) several times in a
   * row (entering a configuration, then at its first step): the last answer per observer.
   */
  private readonly lastState: (S | undefined)[];
  private readonly lastAnswer: Uint8Array;
  /** Per (reset k, observer id) at k * n + id: 0 not asked yet, 1 reachable, 2 not. */
  private readonly fromReset: Uint8Array | undefined;

  private constructor(model: Model<S, I, O>, ops: readonly HistoryOperation<I, O>[]) {
    const n = ops.length;
    const hooks = model.lookahead as LookaheadHooks<S, I, O>;
    this.hooks = hooks;
    this.ops = ops;
    const resets: number[] = [];
    [this.observer, this.lastAnswer] = uint8Arrays(n, n);
    for (let id = 0; id < n; id++) {
      const op = ops[id] as HistoryOperation<I, O>;
      if (hooks.resets(op.input)) resets.push(id);
      if (hooks.observes(op.input, op.output)) this.observer[id] = 1;
    }
    // Partitions come in call order (ties by index), so `resets` already is.
    this.resets = Int32Array.from(resets);
    const base = model.init();
    this.resetStates = resets.map((id) => {
      const op = ops[id] as HistoryOperation<I, O>;
      return model.step(base, op.input, op.output).state;
    });
    this.lastState = new Array<S | undefined>(n);
    const table = resets.length * n;
    this.fromReset = table <= MAX_RESET_TABLE ? new Uint8Array(table) : undefined;
  }

  static create<S, I, O>(
    model: Model<S, I, O>,
    ops: readonly HistoryOperation<I, O>[],
  ): Lookahead<S, I, O> | undefined {
    return model.lookahead === undefined ? undefined : new Lookahead(model, ops);
  }

  /** Whether observer `id` could become legal from `state` without a reset (`mayReach`). */
  reachable(state: S, id: number): boolean {
    if (this.lastState[id] === state && state !== undefined) return this.lastAnswer[id] === 1;
    const op = this.ops[id] as HistoryOperation<I, O>;
    const answer = this.hooks.mayReach(state, op.input, op.output);
    this.lastState[id] = state;
    this.lastAnswer[id] = answer ? 1 : 0;
    return answer;
  }

  /** `reachable` from the state reset `k` leaves, which never changes: asked once. */
  private reachableFromReset(k: number, id: number): boolean {
    const table = this.fromReset;
    const op = this.ops[id] as HistoryOperation<I, O>;
    if (table === undefined)
      return this.hooks.mayReach(this.resetStates[k] as S, op.input, op.output);
    const at = k * this.ops.length + id;
    if (table[at] === 0) {
      table[at] = this.hooks.mayReach(this.resetStates[k] as S, op.input, op.output) ? 1 : 2;
    }
    return table[at] === 1;
  }

  /** False if operation `id`, not linearized yet, provably can never become legal. */
  mayBecomeLegal(state: S, id: number, linearized: LinearizedSet): boolean {
    if (this.observer[id] === 0) return true;
    if (this.reachable(state, id)) return true;
    const op = this.ops[id] as HistoryOperation<I, O>;
    for (let k = 0; k < this.resets.length; k++) {
      const reset = this.resets[k] as number;
      if ((this.ops[reset] as HistoryOperation<I, O>).call > op.return) break;
      if (reset === id || linearized.has(reset)) continue;
      if (this.reachableFromReset(k, id)) return true;
    }
    return false;
  }
}
