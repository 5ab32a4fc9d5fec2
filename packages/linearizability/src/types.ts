/** The checker's answer: a linearization exists, provably none exists, or time ran out. */
export type Outcome = 'ok' | 'illegal' | 'unknown';

/**
 * One operation of a history, as a client saw it. Times are any monotonic numbers (ns, ms, a
 * logical counter); only their order matters. Two operations whose intervals touch
 * (`a.return === b.call`) count as concurrent.
 *
 * An operation whose outcome is unknown — the client timed out, crashed, or the test ended
 * with the call in flight — has no `return` (or `return: Infinity` / `null`) and no `output`.
 * It may take effect at any time after its call, or never. A client that knows when it stopped
 * waiting (a timeout, a cancelled call) says so with `gaveUp`: the outcome is just as unknown —
 * the request may still be in flight and take effect later — but the time is kept for the
 * report, the HTML view and the JSON export.
 */
export interface Operation<I = unknown, O = unknown> {
  clientId: number;
  input: I;
  call: number;
  output?: O | undefined;
  return?: number | null | undefined;
  /** When the client gave up waiting, outcome unknown; not with `return` or `output`. */
  gaveUp?: number | undefined;
}

/** An operation after validation: `return` is `Infinity` exactly when `pending` is true. */
export interface HistoryOperation<I = unknown, O = unknown> {
  /** Position in the checked history (the operation list, or the order of call events). */
  readonly index: number;
  readonly clientId: number;
  readonly input: I;
  /** `undefined` when the outcome is unknown. */
  readonly output: O | undefined;
  readonly call: number;
  readonly return: number;
  readonly pending: boolean;
  /** When the client gave up waiting (`Operation.gaveUp`); only on a pending operation. */
  readonly gaveUp?: number | undefined;
}

/** A call event; `id` pairs it with its return event. */
export interface CallEvent<I = unknown> {
  kind: 'call';
  id: number | string;
  clientId: number;
  input: I;
}

/** A return event. A call without one has an unknown outcome. */
export interface ReturnEvent<O = unknown> {
  kind: 'return';
  id: number | string;
  output?: O | undefined;
}

/**
 * The client stopped waiting for call `id` (a timeout): its outcome is unknown, as for a call
 * with no return event, and the id may be reused.
 */
export interface GaveUpEvent {
  kind: 'gave-up';
  id: number | string;
}

/** A history as a sequence of events in real-time order (the position is the time). */
export type HistoryEvent<I = unknown, O = unknown> = CallEvent<I> | ReturnEvent<O> | GaveUpEvent;

/** What `Model.step` returns: whether the operation is legal in `state`, and the state after it. */
export interface StepResult<S> {
  readonly ok: boolean;
  readonly state: S;
}

/**
 * A sequential specification. `step` must be a pure function of its arguments.
 *
 * `output` is `undefined` when the operation's outcome is unknown: `step` must then accept the
 * operation (its effect, if any, applied). The checker covers "never took effect" on its own,
 * since an operation with no return can always be linearized after everything else.
 */
export interface Model<S = unknown, I = unknown, O = unknown> {
  /** Shown in visualizations and the CLI. */
  readonly name?: string;
  init(): S;
  step(state: S, input: I, output: O | undefined): StepResult<S>;
  /**
   * True if the operation never changes the state in any state where it is legal (a read, a
   * failed compare-and-set). Optional; it lets the search linearize such an operation as soon
   * as it is legal, without trying alternatives, which prunes most of the search on read-heavy
   * histories. Wrongly claiming an operation is read-only makes the checker unsound.
   */
  readOnly?(input: I, output: O | undefined): boolean;
  /**
   * Optional look-ahead for models whose state only grows (a string that is only appended to,
   * a log) except through resetting operations (a put):
   * - `resets(input)`: the operation replaces the state with one that does not depend on the
   *   state before it;
   * - `observes(input, output)`: the operation is legal only in some states (a get with a
   *   known output); only these are watched, and every other operation must be legal in
   *   every state;
   * - `mayReach(state, input, output)`: may return false only if no sequence of non-resetting
   *   operations leads from `state` to a state in which this observing operation is legal.
   *
   * When an operation not yet linearized can no longer become legal — not from the current
   * state, nor after any reset that could still come before it — the search abandons the
   * branch at once instead of trying every order of the operations in between; and states
   * from which no remaining observer can be reached without a reset are treated as one. A
   * wrong `false` from `mayReach` or `observes`, or a reset whose result depends on the state,
   * makes the checker unsound.
   */
  lookahead?: {
    resets(input: I): boolean;
    observes(input: I, output: O | undefined): boolean;
    mayReach(state: S, input: I, output: O | undefined): boolean;
  };
  /** State equality for the search cache; default `Object.is`. */
  equal?(a: S, b: S): boolean;
  /** A hash consistent with `equal`, mixed into the cache key; optional. */
  hash?(state: S): number;
  /**
   * P-compositionality: operations with different keys touch independent state and are checked
   * as separate histories (e.g. the key of a key/value operation). Omit to check one history.
   */
  partitionKey?(input: I): string | number;
  /** Returns a description of what is wrong with an operation's shape, or undefined if none. */
  validate?(input: unknown, output: unknown, pending: boolean): string | undefined;
  /** One line, e.g. `get("k") → "v"`; `output` is `undefined` when unknown. */
  describeOperation?(input: I, output: O | undefined): string;
  describeState?(state: S): string;
  /**
   * Why an operation cannot be legal in `state`, for the failure report (e.g. where the value
   * a get saw departs from the state). Optional.
   */
  describeMismatch?(state: S, input: I, output: O | undefined): string | undefined;
}

/** The verdict on one partition of the history. */
export interface PartitionResult {
  /** The partition key, or `null` when the model does not partition. */
  readonly key: string | number | null;
  readonly outcome: Outcome;
  /** History indices of this partition's operations, in call order. */
  readonly operations: readonly number[];
  /**
   * Linearizations found, as history indices in linearization order, longest first. For `ok`
   * this is one complete linearization. For `illegal` and `unknown` it holds the longest partial
   * ones (each operation appears in the longest one that contains it) only if `explained`;
   * otherwise it is empty.
   */
  readonly partials: readonly (readonly number[])[];
  /**
   * True if the search ran on this partition; false if it was skipped because an earlier
   * partition was illegal (see `CheckOptions.stopOnIllegal`) or the time limit had passed
   * before it started (its outcome is then `unknown`).
   */
  readonly searched: boolean;
  /**
   * True if `partials` is what the search found: always for `ok`; for `illegal` and `unknown`
   * only with `CheckOptions.explain`, or for `illegal` after `explainResult`.
   */
  readonly explained: boolean;
  /** Search steps (model steps tried) spent on this partition. */
  readonly steps: number;
}

export interface CheckResult<I = unknown, O = unknown> {
  readonly outcome: Outcome;
  /** The validated history that was checked; partitions refer to it by index. */
  readonly history: readonly HistoryOperation<I, O>[];
  /** In key order (numbers ascending, then strings by code unit). */
  readonly partitions: readonly PartitionResult[];
  /** Wall-clock time the check took, in ms. */
  readonly elapsedMs: number;
}

export interface CheckOptions {
  /**
   * Give up after this many ms of real time and answer `unknown` (as Porcupine's timeout).
   * Default: no limit.
   */
  timeLimitMs?: number;
  /** The clock for the time limit, in ms; default `performance.now`. */
  now?: () => number;
  /**
   * Record, while searching, the longest partial linearizations of partitions that turn out
   * illegal or run out of time (`PartitionResult.partials`), and check every partition.
   * Default false: a failing check costs less, and `formatResult`, `renderHtml`, `toJson` and
   * `assertLinearizable` explain an illegal partition when asked, by searching it once more
   * (`explainResult`: the same search, so the same verdict in the same number of steps).
   */
  explain?: boolean;
  /**
   * Stop at the first illegal partition instead of checking the rest; those left are
   * `unknown` with `searched: false`. Default: true, unless `explain` is set.
   */
  stopOnIllegal?: boolean;
}
