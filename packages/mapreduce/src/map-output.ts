import { AppError, describeError } from './errors.js';
import { bucketOf } from './hash.js';

/**
 * The pairs of one key seen so far in a map task, when not all its values are the task's
 * common value (see `MapOutput`): a run of one value, run-length encoded, plus the rest.
 */
interface Group {
  readonly run: string;
  runLength: number;
  rest: string[] | undefined;
}

/** With a combiner, `rest` is folded into one value whenever it reaches this length. */
const COMBINE_EVERY = 1024;

/**
 * Collects one map task's output grouped by key, folding it with the app's combiner if it has
 * one, and splits it into reduce buckets.
 *
 * Most apps emit one value over and over within a task (word count: "1"; the indexer: the
 * file's name). The first value emitted is the task's `common` value, and a key whose values
 * are all that value is stored as a bare count: a Map get and a set of a small integer per
 * pair, no object per key, nothing for the garbage collector. A key that gets another value
 * becomes a `Group`.
 */
export class MapOutput {
  readonly #groups = new Map<string, number | Group>();
  readonly #combine: ((key: string, values: string[]) => string) | undefined;
  #common: string | undefined;
  #pairs = 0;

  constructor(combine?: (key: string, values: string[]) => string) {
    this.#combine = combine;
  }

  /** Pairs emitted so far. */
  get pairs(): number {
    return this.#pairs;
  }

  /** Distinct keys so far. */
  get keys(): number {
    return this.#groups.size;
  }

  /** The map function's `emit`. Checks types: app code is not trusted to be typed. */
  readonly emit = (key: string, value: string): void => {
    if (typeof key !== 'string' || typeof value !== 'string') {
      throw new AppError(
        `map emitted a non-string pair (${typeof key} key, ${typeof value} value); keys and values must be strings`,
      );
    }
    this.#pairs++;
    this.#common ??= value;
    const group = this.#groups.get(key);
    if (group === undefined) {
      this.#groups.set(
        key,
        value === this.#common ? 1 : { run: value, runLength: 1, rest: undefined },
      );
    } else if (typeof group === 'number') {
      if (value === this.#common) this.#groups.set(key, group + 1);
      else this.#groups.set(key, { run: this.#common, runLength: group, rest: [value] });
    } else if (group.run === value) {
      group.runLength++;
    } else if (group.rest === undefined) {
      group.rest = [value];
    } else if (group.rest.push(value) >= COMBINE_EVERY && this.#combine !== undefined) {
      group.rest = [this.#fold(key, group.rest)];
    }
  };

  /** Adds the pairs a map function returned (the lab's style) rather than emitted. */
  addAll(pairs: Iterable<unknown>): void {
    for (const pair of pairs) {
      if (typeof pair !== 'object' || pair === null) {
        throw new AppError('map returned something that is not a { key, value } pair');
      }
      const { key, value } = pair as { key?: unknown; value?: unknown };
      this.emit(key as string, value as string);
    }
  }

  /**
   * The grouped output split into `nReduce` buckets: per bucket, `[key, values]` records in
   * first-seen order; one combined value per key when there is a combiner.
   */
  buckets(nReduce: number): Array<Array<[string, string[]]>> {
    const buckets: Array<Array<[string, string[]]>> = Array.from({ length: nReduce }, () => []);
    for (const [key, group] of this.#groups) {
      let values: string[];
      if (typeof group === 'number') {
        values = new Array<string>(group).fill(this.#common as string);
      } else {
        values = new Array<string>(group.runLength).fill(group.run);
        if (group.rest !== undefined) values = values.concat(group.rest);
      }
      if (this.#combine !== undefined && values.length > 1) values = [this.#fold(key, values)];
      (buckets[bucketOf(key, nReduce)] as Array<[string, string[]]>).push([key, values]);
    }
    return buckets;
  }

  #fold(key: string, values: string[]): string {
    let out: unknown;
    try {
      out = (this.#combine as (key: string, values: string[]) => string)(key, values);
    } catch (err) {
      throw new AppError(
        `combine threw on key ${JSON.stringify(key)}: ${describeError(err).message}`,
        {
          cause: err,
        },
      );
    }
    if (typeof out !== 'string') {
      throw new AppError(
        `combine returned a ${typeof out} for key ${JSON.stringify(key)}, not a string`,
      );
    }
    return out;
  }
}
