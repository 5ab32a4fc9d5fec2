import { performance } from 'node:perf_hooks';
import { eventsToHistory, operationsToHistory } from './history.js';
import { type Partition, partitionHistory } from './partition.js';
import { type Deadline, type SearchResult, searchPartition } from './search.js';
import type {
  CheckOptions,
  CheckResult,
  HistoryEvent,
  HistoryOperation,
  Model,
  Operation,
  Outcome,
  PartitionResult,
} from './types.js';

const realNow = (): number => performance.now(); // determinism: allowed (the time limit is real time, as Porcupine's)

/**
 * Checks a history given as a list of operations. Synchronous and deterministic except for
 * where the time limit cuts the search off.
 *
 * @throws HistoryError if the history is malformed or the model rejects an operation's shape.
 */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult<I, O> {
  const now = options.now ?? realNow;
  const start = now();
  return checkHistory(model, operationsToHistory(model, operations), options, now, start);
}

/**
 * Checks a history given as call and return events in real-time order. Operations are
 * numbered (`HistoryOperation.index`) in the order of their call events.
 *
 * @throws HistoryError if the events do not pair up or the model rejects an operation's shape.
 */
export function checkEvents<S, I, O>(
  model: Model<S, I, O>,
  events: readonly HistoryEvent<I, O>[],
  options: CheckOptions = {},
): CheckResult<I, O> {
  const now = options.now ?? realNow;
  const start = now();
  return checkHistory(model, eventsToHistory(model, events), options, now, start);
}

function checkHistory<S, I, O>(
  model: Model<S, I, O>,
  history: HistoryOperation<I, O>[],
  options: CheckOptions,
  now: () => number,
  start: number,
): CheckResult<I, O> {
  const limit = options.timeLimitMs;
  if (limit !== undefined && !(limit >= 0)) {
    throw new RangeError(`timeLimitMs must be a non-negative number, got ${limit}`);
  }
  const deadline: Deadline =
    limit === undefined || limit === Number.POSITIVE_INFINITY
      ? NO_DEADLINE
      : { expired: () => now() - start >= limit };
  const explain = options.explain ?? false;
  const stopOnIllegal = options.stopOnIllegal ?? !explain;
  const partitions = partitionHistory(model, history);
  // Small partitions first, so one expensive partition that runs out the clock does not keep
  // a cheap illegal one from being found (Porcupine checks them all at once instead).
  const order = partitions
    .map((_, i) => i)
    .sort((a, b) => sizeOf(partitions, a) - sizeOf(partitions, b) || a - b);
  const results = new Array<PartitionResult | undefined>(partitions.length);
  let stop = false;
  for (const i of order) {
    const partition = partitions[i] as Partition<I, O>;
    if (stop || deadline.expired()) {
      results[i] = toResult(partition.key, partition.ops, undefined, false);
      continue;
    }
    const found = searchPartition(model, partition.ops, deadline, explain);
    results[i] = toResult(partition.key, partition.ops, found, explain);
    if (found.outcome === 'illegal' && stopOnIllegal) stop = true;
  }
  const done = results as PartitionResult[];
  return { outcome: combine(done), history, partitions: done, elapsedMs: now() - start };
}

const NO_DEADLINE: Deadline = { expired: () => false };
const explainedResults = new WeakMap<CheckResult, CheckResult>();

/**
 * The result with every illegal partition explained: each one not yet `explained` is searched
 * again, recording its longest partial linearizations. The search is deterministic, so it
 * reaches the same verdict in the same number of steps, with no time limit needed. Returns
 * `result` itself if there is nothing to explain; repeated calls on one result search once.
 */
export function explainResult<S, I, O>(
  model: Model<S, I, O>,
  result: CheckResult<I, O>,
): CheckResult<I, O> {
  if (result.partitions.every((p) => p.explained || p.outcome !== 'illegal')) return result;
  const cached = explainedResults.get(result as CheckResult);
  if (cached !== undefined) return cached as CheckResult<I, O>;
  const partitions = result.partitions.map((p) => {
    if (p.explained || p.outcome !== 'illegal') return p;
    const ops = p.operations.map((index) => result.history[index] as HistoryOperation<I, O>);
    return toResult(p.key, ops, searchPartition(model, ops, NO_DEADLINE, true), true);
  });
  const explained: CheckResult<I, O> = { ...result, partitions };
  explainedResults.set(result as CheckResult, explained as CheckResult);
  return explained;
}

function sizeOf<I, O>(partitions: Partition<I, O>[], i: number): number {
  return (partitions[i] as Partition<I, O>).ops.length;
}

/** `found` undefined: the partition was not searched. */
function toResult<I, O>(
  key: string | number | null,
  ops: readonly HistoryOperation<I, O>[],
  found: SearchResult | undefined,
  explain: boolean,
): PartitionResult {
  const toIndex = (local: number): number => (ops[local] as HistoryOperation<I, O>).index;
  const outcome = found?.outcome ?? 'unknown';
  return {
    key,
    outcome,
    operations: ops.map((op) => op.index),
    partials: (found?.partials ?? []).map((seq) => Array.from(seq, toIndex)),
    steps: found?.steps ?? 0,
    searched: found !== undefined,
    explained: found !== undefined && (explain || outcome === 'ok'),
  };
}

/** Illegal if any partition is; else unknown if any is; else ok. */
function combine(partitions: readonly PartitionResult[]): Outcome {
  let outcome: Outcome = 'ok';
  for (const p of partitions) {
    if (p.outcome === 'illegal') return 'illegal';
    if (p.outcome === 'unknown') outcome = 'unknown';
  }
  return outcome;
}
