import { LinearizedSet } from './bitset.js';
import { Lookahead } from './lookahead.js';
import { createCache } from './search-cache.js';
import type { HistoryOperation, Model, Outcome } from './types.js';

/** Says when the time limit has passed; polled every few thousand search steps. */
export interface Deadline {
  expired(): boolean;
}

export interface SearchResult {
  readonly outcome: Outcome;
  /** Local operation ids (positions in the partition), longest first. */
  readonly partials: Int32Array[];
  readonly steps: number;
}

const NIL = -1;
/** The cache key of every dead state (see `isDead`). */
const DEAD: unknown = Symbol('dead state');
const DEADLINE_POLL_MASK = 0xfff;
/** How many of the earliest-returning observers the look-ahead checks beyond the candidates. */
const LOOKAHEAD_RETURNS = 3;

/**
 * Decides whether one partition's operations are linearizable: the Wing–Gong algorithm with
 * Lowe's improvements, as in Porcupine.
 *
 * Calls and returns sit in one doubly linked list in real-time order (ties: calls before
 * returns, then by operation). The search walks the list: at a call it tries to linearize that
 * operation next — the model must accept it, and the (linearized set, state) pair must be new —
 * and if so lifts the call and its return out of the list and starts again from the head. At a
 * return nothing before it can go next, so it backtracks: pops the last linearized operation,
 * puts it back (unlift) and tries the entry after it. The list empties iff a linearization
 * exists. The cache of visited (set, state) pairs is what keeps this from being exponential
 * on most real histories.
 */
export function searchPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly HistoryOperation<I, O>[],
  deadline: Deadline,
): SearchResult {
  const n = ops.length;
  if (n === 0) return { outcome: 'ok', partials: [new Int32Array(0)], steps: 0 };
  const head = 2 * n;
  const next = new Int32Array(2 * n + 1);
  const prev = new Int32Array(2 * n + 1);
  /** For a call node, its return node; NIL for return nodes and the head. */
  const match = new Int32Array(2 * n + 1);
  const opOf = new Int32Array(2 * n + 1);
  buildList(ops, next, prev, match, opOf);
  const readOnly = new Uint8Array(n);
  if (model.readOnly !== undefined) {
    for (let id = 0; id < n; id++) {
      const op = ops[id] as HistoryOperation<I, O>;
      if (model.readOnly(op.input, op.output)) readOnly[id] = 1;
    }
  }

  const linearized = new LinearizedSet(ops.map((op) => op.pending));
  const cache = createCache(model, linearized);
  const lookahead = Lookahead.create(model, ops);
  const stackNode = new Int32Array(n);
  /** The cache entry of the configuration each lift entered. */
  const stackEntry = new Int32Array(n);
  const stackState: S[] = new Array<S>(n);
  /** 1 where the stack entry was taken by the read rule: its configuration has no alternative. */
  const stackForced = new Uint8Array(n);
  let depth = 0;
  const longest = new LongestTracker(n);

  // Candidates are tried in `rank` order (see rankOperations); each configuration on the
  // stack keeps its candidate list in `pool`, from `levelStart` to `levelEnd`, and the next one
  // to try at `levelCursor`.
  const rank = rankOperations(ops);
  let pool = new Int32Array(64);
  let poolTop = 0;
  const levelStart = new Int32Array(n + 1);
  const levelEnd = new Int32Array(n + 1);
  const levelCursor = new Int32Array(n + 1);

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
    if (atPeak) longest.record(stackNode, depth, opOf);
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
      if (atPeak) longest.record(stackNode, depth, opOf);
      return { outcome: 'unknown', partials: longest.result(), steps };
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
        if (readOnly[opOf[e] as number] === 1) continue;
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
  if (next[head] !== NIL) return { outcome: 'illegal', partials: longest.result(), steps };
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
  const order = ops.map((_, id) => id);
  order.sort((a, b) => {
    const oa = ops[a] as HistoryOperation<I, O>;
    const ob = ops[b] as HistoryOperation<I, O>;
    if (oa.return !== ob.return) return oa.return < ob.return ? -1 : 1;
    return oa.call - ob.call || a - b;
  });
  const rank = new Int32Array(ops.length);
  for (let r = 0; r < order.length; r++) rank[order[r] as number] = r;
  return rank;
}

/** Fills the linked list (head = node 2n) with the partition's calls and returns in time order. */
function buildList<I, O>(
  ops: readonly HistoryOperation<I, O>[],
  next: Int32Array,
  prev: Int32Array,
  match: Int32Array,
  opOf: Int32Array,
): void {
  const n = ops.length;
  // Entry e < n is the call of op e; entry n + e is its return.
  const time = (e: number): number => {
    const op = ops[e < n ? e : e - n] as HistoryOperation<I, O>;
    return e < n ? op.call : op.return;
  };
  const order = Array.from({ length: 2 * n }, (_, e) => e);
  order.sort((a, b) => {
    const ta = time(a);
    const tb = time(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    const ka = a < n ? 0 : 1;
    const kb = b < n ? 0 : 1;
    if (ka !== kb) return ka - kb; // calls first: touching intervals are concurrent
    return a - b;
  });
  // Node i is the i-th entry in time order; match points a call's node at its return's node.
  const nodeOf = new Int32Array(2 * n);
  for (let i = 0; i < order.length; i++) nodeOf[order[i] as number] = i;
  const head = 2 * n;
  for (let i = 0; i < order.length; i++) {
    const e = order[i] as number;
    next[i] = i + 1 < order.length ? i + 1 : NIL;
    prev[i] = i === 0 ? head : i - 1;
    opOf[i] = e < n ? e : e - n;
    match[i] = e < n ? (nodeOf[e + n] as number) : NIL;
  }
  next[head] = 0;
  prev[head] = NIL;
  match[head] = NIL;
  opOf[head] = NIL;
}

/** Removes a call node and its return node from the list. A call is never last. */
function lift(call: number, ret: number, next: Int32Array, prev: Int32Array): void {
  next[prev[call] as number] = next[call] as number;
  prev[next[call] as number] = prev[call] as number;
  next[prev[ret] as number] = next[ret] as number;
  const after = next[ret] as number;
  if (after !== NIL) prev[after] = prev[ret] as number;
}

/** Puts back what `lift` removed; the inverse of the last lift still in effect. */
function unlift(call: number, ret: number, next: Int32Array, prev: Int32Array): void {
  next[prev[ret] as number] = ret;
  const after = next[ret] as number;
  if (after !== NIL) prev[after] = ret;
  next[prev[call] as number] = call;
  prev[next[call] as number] = call;
}

/** For each operation, the longest partial linearization seen that contains it. */
class LongestTracker {
  private readonly length: Int32Array;
  private readonly best: (Int32Array | undefined)[];

  constructor(n: number) {
    this.length = new Int32Array(n);
    this.best = new Array<Int32Array | undefined>(n).fill(undefined);
  }

  record(stackNode: Int32Array, depth: number, opOf: Int32Array): void {
    let seq: Int32Array | undefined;
    for (let i = 0; i < depth; i++) {
      const id = opOf[stackNode[i] as number] as number;
      if ((this.length[id] as number) >= depth) continue;
      if (seq === undefined) {
        seq = new Int32Array(depth);
        for (let j = 0; j < depth; j++) seq[j] = opOf[stackNode[j] as number] as number;
      }
      this.length[id] = depth;
      this.best[id] = seq;
    }
  }

  /** The distinct sequences still best for some operation, longest first (ties: by first such operation). */
  result(): Int32Array[] {
    const seen = new Set<Int32Array>();
    const out: Int32Array[] = [];
    for (const seq of this.best) {
      if (seq !== undefined && !seen.has(seq)) {
        seen.add(seq);
        out.push(seq);
      }
    }
    return out.sort((a, b) => b.length - a.length);
  }
}
