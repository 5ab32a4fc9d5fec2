/** One intermediate pair, as the lab's `KeyValue`. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** Hands one pair to the framework; cheaper than returning an array of them. */
export type Emit = (key: string, value: string) => void;

/**
 * A MapReduce application: the TypeScript analogue of the lab's Go plugins.
 *
 * - `map` may return its pairs (an array or any iterable, the lab's way) or pass each to `emit`
 *   and return nothing; it may be async.
 * - `reduce` is called once per distinct key with all its values (in no particular order) and
 *   returns the text written after the key in `mr-out-Y`; it may be async.
 * - `combine`, when present, folds some values of one key into one value inside a map task, so
 *   a map task writes one value per key instead of one per occurrence. It must be safe to
 *   apply any number of times: `reduce(k, [...a, combine(k, b)])` must equal
 *   `reduce(k, [...a, ...b])`. The sequential runner never calls it, so a wrong combiner shows
 *   up as a difference against it.
 */
export interface App {
  map(
    filename: string,
    contents: string,
    emit: Emit,
  ): Iterable<KeyValue> | undefined | Promise<Iterable<KeyValue> | undefined>;
  reduce(key: string, values: string[]): string | Promise<string>;
  combine?(key: string, values: string[]): string;
}
