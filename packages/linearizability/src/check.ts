import { performance } from 'node:perf_hooks';
import { eventsToHistory, operationsToHistory } from './history.js';
import { type Partition, partitionHistory } from './partition.js';
import { type Deadline, searchPartition } from './search.js';
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
      ? { expired: () => false }
      : { expired: () => now() - start >= limit };
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
      results[i] = toResult(partition, 'unknown', [], 0);
      continue;
    }
    const found = searchPartition(model, partition.ops, deadline);
    results[i] = toResult(partition, found.outcome, found.partials, found.steps);
    if (found.outcome === 'illegal' && options.stopOnIllegal) stop = true;
  }
  const done = results as PartitionResult[];
  return { outcome: combine(done), history, partitions: done, elapsedMs: now() - start };
}

function sizeOf<I, O>(partitions: Partition<I, O>[], i: number): number {
  return (partitions[i] as Partition<I, O>).ops.length;
}

function toResult<I, O>(
  partition: Partition<I, O>,
  outcome: Outcome,
  partials: Int32Array[],
  steps: number,
): PartitionResult {
  const toIndex = (local: number): number => (partition.ops[local] as HistoryOperation<I, O>).index;
  return {
    key: partition.key,
    outcome,
    operations: partition.ops.map((op) => op.index),
    partials: partials.map((seq) => Array.from(seq, toIndex)),
    steps,
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
