import { int32Arrays, uint8Arrays } from './arena.js';
import { LinearizedSet } from './bitset.js';
import { buildList, lift, NIL, unlift } from './entry-list.js';
import { LongestTracker } from './longest.js';
import { Lookahead } from './lookahead.js';
import { createCache } from './search-cache.js';
import { earlierTwins } from './twins.js';
import type { HistoryOperation, Model, Outcome } from './types.js';

/** Says when the time limit has passed; polled every few thousand search steps. */
export interface Deadline {
  expired(): boolean;
}

export interface SearchResult {
  readonly outcome: Outcome;
  /**
   * Local operation ids (positions in the partition), longest first: the one linearization
   * when ok; when illegal or unknown, the longest partial ones if explaining, else none.
   */
  readonly partials: Int32Array[];
  readonly steps: number;
}

/** The cache key of every dead state (see `isDead`). */
const DEAD: unknown = Symbol('dead state');
const DEADLINE_POLL_MASK = 0xfff;
/** How many of the earliest-returning observers the look-ahead checks beyond the candidates. */
const LOOKAHEAD_RETURNS = 3;

/**
 * Decides whether one partition's operations are linearizable: the Wing–Gong–Lowe search, as
 * in Porcupine, with more pruning.
 *
 * Calls and returns sit in one doubly linked list in real-time order (entry-list.ts). The
 * candidates to linearize next are the calls before the first return; linearizing one lifts
 * its call and return out of the list, backtracking puts them back. A configuration is the
 * (linearized set, state) pair; the cache (search-cache.ts) skips configurations already
 * explored. The list empties iff a linearization exists. On top of Porcupine's search:
 *
 * - Candidates are tried earliest return first (see `rankOperations`), not earliest call.
 * - The read rule: a read-only operation (`model.readOnly`) that is legal now can go first in
 *   any linearization from here — it changes no state, and nothing left had to precede it —
 *   so it is taken at once and nothing else is tried at that configuration.
 * - The look-ahead (`model.lookahead`, lookahead.ts): a branch in which some operation can
 *   never become legal again is abandoned at once; and all "dead" states (no remaining
 *   observer reachable without a reset) share one cache key.
 * - Dominance for unknown outcomes: a configuration with more pending operations linearized
 *   than one already explored (same returned operations, same state) is skipped.
 *
 * Every rule only removes configurations that provably have no linearization; the test
 * suite checks the verdicts against brute force over all orders.
 */
export function searchPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly HistoryOperation<I, O>[],
  deadline: Deadline,
  explain: boolean,
): SearchResult {
  const n = ops.length;
  if (n === 0) return { outcome: 'ok', partials: [new Int32Array(0)], steps: 0 };
  const head = 2 * n;
  /** For a call node `match` is its return node; NIL for return nodes and the head. */
  const [next, prev, match, opOf, stackNode, stackEntry, levelStart, levelEnd, levelCursor] =
    int32Arrays(2 * n + 1, 2 * n + 1, 2 * n + 1, 2 * n + 1, n, n, n + 1, n + 1, n + 1);
  /** `stackForced`: 1 where the stack entry was taken by the read rule (no alternative). */
  const [readOnly, stackForced] = uint8Arrays(n, n);
  buildList(ops, next, prev, match, opOf);
  if (model.readOnly !== undefined) {
    for (let id = 0; id < n; id++) {
      const op = ops[id] as HistoryOperation<I, O>;
      if (model.readOnly(op.input, op.output)) readOnly[id] = 1;
    }
  }

  const twin = earlierTwins(ops);
  const linearized = new LinearizedSet(ops);
  const cache = createCache(model, linearized, n);
  const lookahead = Lookahead.create(model, ops);
  /** `stackEntry`: the cache entry of the configuration each lift entered. */
  const stackState: S[] = new Array<S>(n);
  let depth = 0;
  /** Only when explaining: recording every peak costs O(depth) per backtrack. */
  const longest = explain ? new LongestTracker(n) : undefined;

  // Candidates are tried in `rank` order (see rankOperations); each configuration on the
  // stack keeps its candidate list in `pool`, from `levelStart` to `levelEnd`, and the next one
  // to try at `levelCursor`.
  const rank = rankOperations(ops);
  let pool = new Int32Array(64);
  let poolTop = 0;

  let state = model.init();
  let steps = 0;
  /** Just arrived at a configuration by a lift (or at the start). */
  let fresh = true;
  /** No backtrack since the last lift: the stack may be a new longest partial linearization. */
  let atPeak = false;

  /**
   * With a look-ahead, a state from which no remaining observer can be reached without a reset
   * is "dead": observers must wait for a reset, which forgets the state, and the others are
   * legal in any state, so which dead state it is cannot matter and they share one cache key.
   * The walk starts at the observer due soonest, which in a live state is almost always
   * reachable. `entered` is the operation just linearized (still in the list).
   */
  const isDead = (st: S, entered: number): boolean => {
    if (lookahead === undefined) return false;
    for (let e = next[head] as number; e !== NIL; e = next[e] as number) {
      const id = opOf[e] as number;
      if (match[e] !== NIL || id === entered || lookahead.observer[id] === 0) continue;
      if (lookahead.reachable(st, id)) return false;
    }
    return true;
  };
  /** Cache entry of (linearized + id, nextState), or -1 if already ruled out. */
  const enter = (id: number, nextState: S): number => {
    linearized.add(id);
    const entry = cache.enter(linearized, isDead(nextState, id) ? (DEAD as S) : nextState);
    if (entry < 0) linearized.remove(id);
    return entry;
  };
  const push = (node: number, nextState: S, forced: number, entry: number): void => {
    stackNode[depth] = node;
    stackEntry[depth] = entry;
    stackState[depth] = state;
    stackForced[depth] = forced;
    depth++;
    state = nextState;
    lift(node, match[node] as number, next, prev);
    fresh = true;
    atPeak = true;
  };
  /** Undoes lifts until one leaves candidates to try; false when none is left. */
  const backtrack = (): boolean => {
    if (atPeak) longest?.record(stackNode, depth, opOf);
    atPeak = false;
    fresh = false;
    do {
      if (depth === 0) return false;
      depth--;
      cache.leave(stackEntry[depth] as number);
      const node = stackNode[depth] as number;
      state = stackState[depth] as S;
      linearized.remove(opOf[node] as number);
      unlift(node, match[node] as number, next, prev);
    } while (stackForced[depth] === 1);
    return true;
  };

  while (next[head] !== NIL) {
    if ((++steps & DEADLINE_POLL_MASK) === 0 && deadline.expired()) {
      if (atPeak) longest?.record(stackNode, depth, opOf);
      return { outcome: 'unknown', partials: longest?.result() ?? [], steps };
    }
    if (fresh) {
      fresh = false;
      // The read rule: a read-only operation that is legal now can go first in any
      // linearization from here (it changes no state, and nothing left had to precede it),
      // so take it and try nothing else at this configuration.
      let read = NIL;
      let count = 0;
      let dead = false;
      for (let e = next[head] as number; match[e] !== NIL; e = next[e] as number) {
        const id = opOf[e] as number;
        if (lookahead !== undefined && !lookahead.mayBecomeLegal(state, id, linearized)) {
          dead = true;
          break;
        }
        if (readOnly[id] === 0) {
          count++;
          continue;
        }
        if (read === NIL) {
          const op = ops[id] as HistoryOperation<I, O>;
          if (model.step(state, op.input, op.output).ok) read = e;
        }
      }
      // The look-ahead applies to every operation not linearized yet, called or not; past the
      // candidates it checks the few observers that must be linearized soonest.
      if (!dead && lookahead !== undefined) {
        let returns = 0;
        for (
          let e = next[head] as number;
          e !== NIL && returns < LOOKAHEAD_RETURNS;
          e = next[e] as number
        ) {
          if (match[e] !== NIL || lookahead.observer[opOf[e] as number] === 0) continue;
          returns++;
          if (!lookahead.mayBecomeLegal(state, opOf[e] as number, linearized)) {
            dead = true;
            break;
          }
        }
      }
      // A branch in which some operation can never become legal is dead.
      if (dead) {
        if (!backtrack()) break;
        continue;
      }
      if (read !== NIL) {
        const entry = enter(opOf[read] as number, state);
        if (entry >= 0) push(read, state, 1, entry);
        else if (!backtrack()) break;
        continue;
      }
      // Otherwise the candidates are the state-changing calls before the first return.
      if (poolTop + count > pool.length) {
        const bigger = new Int32Array(Math.max(pool.length * 2, poolTop + count));
        bigger.set(pool);
        pool = bigger;
      }
      let end = poolTop;
      for (let e = next[head] as number; match[e] !== NIL; e = next[e] as number) {
        const candidate = opOf[e] as number;
        if (readOnly[candidate] === 1) continue;
        const before = twin[candidate] as number;
        if (before !== NIL && !linearized.has(before)) continue;
        // Insertion sort by rank: the lists are short.
        const r = rank[opOf[e] as number] as number;
        let k = end++;
        while (k > poolTop && (rank[opOf[pool[k - 1] as number] as number] as number) > r) {
          pool[k] = pool[k - 1] as number;
          k--;
        }
        pool[k] = e;
      }
      levelStart[depth] = poolTop;
      levelCursor[depth] = poolTop;
      levelEnd[depth] = end;
      poolTop = end;
    }
    const cursor = levelCursor[depth] as number;
    if (cursor === levelEnd[depth]) {
      poolTop = levelStart[depth] as number;
      if (!backtrack()) break;
      continue;
    }
    levelCursor[depth] = cursor + 1;
    const entry = pool[cursor] as number;
    const id = opOf[entry] as number;
    const op = ops[id] as HistoryOperation<I, O>;
    const result = model.step(state, op.input, op.output);
    if (result.ok) {
      const cached = enter(id, result.state);
      if (cached >= 0) push(entry, result.state, 0, cached);
    }
  }
  if (next[head] !== NIL) return { outcome: 'illegal', partials: longest?.result() ?? [], steps };
  const full = new Int32Array(depth);
  for (let i = 0; i < depth; i++) full[i] = opOf[stackNode[i] as number] as number;
  return { outcome: 'ok', partials: [full], steps };
}

/**
 * The order in which candidates are tried. Any order is complete; a good guess of the real
 * order finds a linearization without backtracking. Earliest return first beats Porcupine's
 * earliest call first by far on histories where operations take effect late in their
 * interval (a server applies, then replies) and is no worse elsewhere. Ties: call, then index.
 */
function rankOperations<I, O>(ops: readonly HistoryOperation<I, O>[]): Int32Array {
  const rank = new Int32Array(ops.length);
  // Ops come by (call, id): when returns never decrease, that is already the order.
  let sorted = true;
  for (let id = 0; id < ops.length; id++) {
    rank[id] = id;
    if (
      id > 0 &&
      (ops[id - 1] as HistoryOperation<I, O>).return > (ops[id] as HistoryOperation<I, O>).return
    ) {
      sorted = false;
    }
  }
  if (sorted) return rank;
  const order = ops.map((_, id) => id);
  order.sort((a, b) => {
    const oa = ops[a] as HistoryOperation<I, O>;
    const ob = ops[b] as HistoryOperation<I, O>;
    if (oa.return !== ob.return) return oa.return < ob.return ? -1 : 1;
    return oa.call - ob.call || a - b;
  });
  for (let r = 0; r < order.length; r++) rank[order[r] as number] = r;
  return rank;
}
