import { LinearizedSet } from './bitset.js';
import { explainResult } from './check.js';
import { Lookahead } from './lookahead.js';
import { quote } from './models/describe.js';
import type { CheckResult, HistoryOperation, Model, Outcome, PartitionResult } from './types.js';

/** One step of a (partial) linearization, with the model state after it. */
export interface LinearizationStep {
  readonly index: number;
  readonly stateAfter: string;
}

/**
 * An operation that keeps the longest partial linearization from going on: `unreachable` when
 * the model's look-ahead shows it can never become legal from that state (whatever comes
 * first); otherwise one that could have gone next (called before every remaining operation
 * returned) but did not: `rejected` when the model refuses it in that state, `dead-end` when
 * it fits there but nothing can follow it.
 */
export interface StuckOperation {
  readonly index: number;
  readonly verdict: 'unreachable' | 'rejected' | 'dead-end';
  /** The model's account of the mismatch (`describeMismatch`), if any. */
  readonly detail?: string;
}

/** What a partition's result means, in display form. */
export interface PartitionReport {
  readonly key: string | number | null;
  readonly outcome: Outcome;
  readonly operations: readonly number[];
  /** The longest linearization found (complete when `ok`), with states. */
  readonly linearization: readonly LinearizationStep[];
  /** The state before the first operation; `stateAfter` of the last step follows on from it. */
  readonly initialState: string;
  /** For `illegal`: the operations that could not go next after `linearization`. */
  readonly stuck: readonly StuckOperation[];
}

export function describeOperation<S, I, O>(
  model: Model<S, I, O>,
  op: HistoryOperation<I, O>,
): string {
  if (model.describeOperation) return model.describeOperation(op.input, op.output);
  return `${JSON.stringify(op.input)} → ${op.pending ? '?' : JSON.stringify(op.output)}`;
}

export function describeState<S, I, O>(model: Model<S, I, O>, state: S): string {
  return model.describeState ? model.describeState(state) : quote(JSON.stringify(state), 200);
}

/**
 * Replays the partition's longest linearization through the model and finds where it stuck.
 * An illegal partition of `result` not yet explained is searched again first (`explainResult`).
 */
export function explainPartition<S, I, O>(
  model: Model<S, I, O>,
  result: CheckResult<I, O>,
  partition: PartitionResult,
): PartitionReport {
  if (partition.outcome === 'illegal' && !partition.explained) {
    const at = result.partitions.indexOf(partition);
    if (at >= 0) partition = explainResult(model, result).partitions[at] as PartitionResult;
  }
  const history = result.history;
  const longest = partition.partials[0] ?? [];
  let state = model.init();
  const initialState = describeState(model, state);
  const linearization: LinearizationStep[] = [];
  for (const index of longest) {
    const op = history[index] as HistoryOperation<I, O>;
    state = model.step(state, op.input, op.output).state;
    linearization.push({ index, stateAfter: describeState(model, state) });
  }
  const stuck =
    partition.outcome === 'illegal' ? findStuck(model, history, partition, longest, state) : [];
  return {
    key: partition.key,
    outcome: partition.outcome,
    operations: partition.operations,
    linearization,
    initialState,
    stuck,
  };
}

const MAX_UNREACHABLE = 3;

/**
 * After the longest linearization: the operations that can never become legal any more (by
 * the model's look-ahead; at most a few, those due soonest), then the candidates to go next
 * that the model rejects, then those that fit but lead nowhere.
 */
function findStuck<S, I, O>(
  model: Model<S, I, O>,
  history: readonly HistoryOperation<I, O>[],
  partition: PartitionResult,
  longest: readonly number[],
  state: S,
): StuckOperation[] {
  const ops = partition.operations.map((i) => history[i] as HistoryOperation<I, O>);
  const set = new LinearizedSet(ops);
  const local = new Map(partition.operations.map((index, id) => [index, id]));
  for (const index of longest) set.add(local.get(index) as number);
  const lookahead = Lookahead.create(model, ops);
  const rest = ops.map((op, id) => ({ op, id })).filter(({ id }) => !set.has(id));
  let firstReturn = Number.POSITIVE_INFINITY;
  for (const { op } of rest) firstReturn = Math.min(firstReturn, op.return);
  const unreachable = rest
    .filter(({ id }) => lookahead !== undefined && !lookahead.mayBecomeLegal(state, id, set))
    .sort((a, b) => a.op.return - b.op.return || a.op.index - b.op.index)
    .slice(0, MAX_UNREACHABLE)
    .map(({ op }) => ({ index: op.index, verdict: 'unreachable' as const }));
  const shown = new Set(unreachable.map((s) => s.index));
  const candidates: StuckOperation[] = [];
  for (const { op } of rest) {
    // Calls before returns at equal times, as in the search.
    if (op.call > firstReturn || shown.has(op.index)) continue;
    const ok = model.step(state, op.input, op.output).ok;
    candidates.push({ index: op.index, verdict: ok ? 'dead-end' : 'rejected' });
  }
  const rank = { rejected: 0, 'dead-end': 1 } as const;
  candidates.sort(
    (a, b) =>
      rank[a.verdict as 'rejected' | 'dead-end'] - rank[b.verdict as 'rejected' | 'dead-end'],
  );
  const detail = (s: StuckOperation): StuckOperation => {
    if (s.verdict === 'dead-end' || model.describeMismatch === undefined) return s;
    const op = history[s.index] as HistoryOperation<I, O>;
    const text = model.describeMismatch(state, op.input, op.output);
    return text === undefined ? s : { ...s, detail: text };
  };
  return [...unreachable, ...candidates].map(detail);
}

/**
 * The stuck operations worth listing one by one: all of them, unless some cannot be
 * linearized at all — then the ones that merely lead nowhere go in `others`, as a summary.
 */
export function splitStuck(stuck: readonly StuckOperation[]): {
  shown: StuckOperation[];
  others: StuckOperation[];
} {
  const blocking = stuck.filter((s) => s.verdict !== 'dead-end');
  if (blocking.length === 0) return { shown: [...stuck], others: [] };
  return { shown: blocking, others: stuck.filter((s) => s.verdict === 'dead-end') };
}

/** What a stuck operation's verdict means, in a few words. */
export function explainVerdict(verdict: StuckOperation['verdict']): string {
  switch (verdict) {
    case 'unreachable':
      return 'can never become legal from this state';
    case 'rejected':
      return 'the model rejects it in this state';
    case 'dead-end':
      return 'fits here, but nothing can follow it';
    default: {
      const unreachable: never = verdict;
      throw new TypeError(`unknown verdict ${String(unreachable)}`);
    }
  }
}

export function describeKey(key: string | number | null): string {
  return key === null ? 'history' : `key ${JSON.stringify(key)}`;
}

function formatTime(t: number): string {
  return t === Number.POSITIVE_INFINITY ? '∞ (no reply)' : String(t);
}

/**
 * A few lines saying what the result is and, for an illegal history, where each illegal
 * partition breaks: the state after its longest linearization and the operations that could
 * not go next.
 */
export function formatResult<S, I, O>(model: Model<S, I, O>, checked: CheckResult<I, O>): string {
  const result = explainResult(model, checked);
  const counts = { ok: 0, illegal: 0, unknown: 0 };
  let skipped = 0;
  for (const p of result.partitions) {
    if (p.searched) counts[p.outcome]++;
    else skipped++;
  }
  const verdict = {
    ok: 'linearizable',
    illegal: 'NOT linearizable',
    unknown: 'unknown (time limit reached)',
  }[result.outcome];
  const lines = [
    `${verdict}: ${result.history.length} operations in ${result.partitions.length} partition(s) ` +
      `(${counts.ok} ok, ${counts.illegal} illegal, ${counts.unknown} unknown` +
      `${skipped > 0 ? `, ${skipped} not checked` : ''}), ` +
      `checked in ${result.elapsedMs.toFixed(1)} ms`,
  ];
  for (const partition of result.partitions) {
    if (partition.outcome !== 'illegal') continue;
    const report = explainPartition(model, result, partition);
    const last = report.linearization.at(-1);
    lines.push(
      `${describeKey(partition.key)}: illegal; the longest linearization covers ` +
        `${report.linearization.length} of ${partition.operations.length} operations, ` +
        `leaving state ${last ? last.stateAfter : report.initialState}; it cannot go on because:`,
    );
    const { shown, others } = splitStuck(report.stuck);
    for (const s of shown) {
      const op = result.history[s.index] as HistoryOperation<I, O>;
      const why = explainVerdict(s.verdict) + (s.detail === undefined ? '' : `: ${s.detail}`);
      lines.push(
        `  #${op.index} client ${op.clientId}: ${describeOperation(model, op)} ` +
          `[${formatTime(op.call)} .. ${op.gaveUp === undefined ? formatTime(op.return) : `gave up at ${op.gaveUp}`}]: ${why}`,
      );
    }
    if (others.length > 0) {
      lines.push(
        `  and ${others.length} more that fit here but lead nowhere: ${others.map((s) => `#${s.index}`).join(', ')}`,
      );
    }
  }
  return lines.join('\n');
}
