import type { HistoryOperation } from './types.js';

/**
 * The calls and returns of one partition as a doubly linked list over typed arrays, in
 * real-time order (ties: calls before returns, then by operation), with a head node. Node i
 * is the i-th entry; for a call node, `match` points at its return node (NIL otherwise).
 * `lift` takes an operation's call and return out; `unlift` puts them back.
 */
export const NIL = -1;

/** Fills the linked list (head = node 2n) with the partition's calls and returns in time order. */
export function buildList<I, O>(
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
export function lift(call: number, ret: number, next: Int32Array, prev: Int32Array): void {
  next[prev[call] as number] = next[call] as number;
  prev[next[call] as number] = prev[call] as number;
  next[prev[ret] as number] = next[ret] as number;
  const after = next[ret] as number;
  if (after !== NIL) prev[after] = prev[ret] as number;
}

/** Puts back what `lift` removed; the inverse of the last lift still in effect. */
export function unlift(call: number, ret: number, next: Int32Array, prev: Int32Array): void {
  next[prev[ret] as number] = ret;
  const after = next[ret] as number;
  if (after !== NIL) prev[after] = ret;
  next[prev[call] as number] = call;
  prev[next[call] as number] = call;
}
