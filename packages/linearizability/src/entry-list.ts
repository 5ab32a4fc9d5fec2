import { int32Arrays } from './arena.js';
import type { HistoryOperation } from './types.js';

/**
 * The calls and returns of one partition as a doubly linked list over typed arrays, in
 * real-time order (ties: calls before returns, then by operation), with a head node. Node i
 * is the i-th entry; for a call node, `match` points at its return node (NIL otherwise).
 * `lift` takes an operation's call and return out; `unlift` puts them back.
 */
export const NIL = -1;

/** Fills the linked list (head = node 2n) with the calls and returns of `ops`, which are in call order (ties by id, as partitions are). */
export function buildList<I, O>(
  ops: readonly HistoryOperation<I, O>[],
  next: Int32Array,
  prev: Int32Array,
  match: Int32Array,
  opOf: Int32Array,
): void {
  const n = ops.length;
  // Entry e < n is the call of op e; entry n + e is its return. The ops come in call order
  // (ties by id), so the calls are already sorted; the returns are sorted by (return, id)
  // and merged in, calls first at equal times: touching intervals are concurrent.
  const [returns, order, nodeOf] = int32Arrays(n, 2 * n, 2 * n);
  sortReturns(ops, returns);
  let c = 0;
  let r = 0;
  for (let i = 0; i < 2 * n; i++) {
    const ret = r < n ? (returns[r] as number) : -1;
    const takeCall =
      c < n &&
      (ret < 0 ||
        (ops[c] as HistoryOperation<I, O>).call <= (ops[ret] as HistoryOperation<I, O>).return);
    if (takeCall) order[i] = c++;
    else {
      order[i] = n + ret;
      r++;
    }
  }
  // Node i is the i-th entry in time order; match points a call's node at its return's node.
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

/** Fills `ids` with the op ids by (return, id); no sort when they already are (one client, say). */
function sortReturns<I, O>(ops: readonly HistoryOperation<I, O>[], ids: Int32Array): void {
  let sorted = true;
  for (let id = 0; id < ops.length; id++) {
    ids[id] = id;
    if (
      id > 0 &&
      (ops[id - 1] as HistoryOperation<I, O>).return > (ops[id] as HistoryOperation<I, O>).return
    )
      sorted = false;
  }
  if (!sorted) {
    ids.sort((a, b) => {
      const ra = (ops[a] as HistoryOperation<I, O>).return;
      const rb = (ops[b] as HistoryOperation<I, O>).return;
      return ra !== rb ? (ra < rb ? -1 : 1) : a - b;
    });
  }
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
