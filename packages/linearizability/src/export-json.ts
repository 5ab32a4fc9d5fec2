import { explainResult } from './check.js';
import {
  describeOperation,
  explainPartition,
  type LinearizationStep,
  type StuckOperation,
} from './explain.js';
import type { CheckResult, Model, Outcome } from './types.js';

export const JSON_FORMAT = 'flotilla-linearizability/1';

export interface OperationJson {
  readonly index: number;
  readonly clientId: number;
  readonly call: number;
  /** `null` when the outcome is unknown. */
  readonly return: number | null;
  /** When the client gave up waiting (outcome unknown), if it said. */
  readonly gaveUp?: number;
  readonly input: unknown;
  readonly output?: unknown;
  readonly description: string;
}

export interface PartitionJson {
  readonly key: string | number | null;
  readonly outcome: Outcome;
  readonly operations: readonly number[];
  readonly initialState: string;
  readonly linearization: readonly LinearizationStep[];
  readonly stuck: readonly StuckOperation[];
  readonly partials: readonly (readonly number[])[];
  readonly steps: number;
  readonly searched: boolean;
  readonly explained: boolean;
}

/**
 * The whole result as plain JSON: the history (re-checkable: `operations` is a valid
 * operation list for `checkOperations` and the CLI), and per partition the outcome, the longest
 * linearization with states, and where it got stuck.
 */
export interface ResultJson {
  readonly format: typeof JSON_FORMAT;
  readonly model: string | null;
  readonly outcome: Outcome;
  readonly elapsedMs: number;
  readonly operations: readonly OperationJson[];
  readonly partitions: readonly PartitionJson[];
}

export function toJson<S, I, O>(model: Model<S, I, O>, checked: CheckResult<I, O>): ResultJson {
  const result = explainResult(model, checked);
  return {
    format: JSON_FORMAT,
    model: model.name ?? null,
    outcome: result.outcome,
    elapsedMs: result.elapsedMs,
    operations: result.history.map((op) => ({
      index: op.index,
      clientId: op.clientId,
      call: op.call,
      return: op.pending ? null : op.return,
      ...(op.gaveUp === undefined ? {} : { gaveUp: op.gaveUp }),
      input: op.input,
      ...(op.output === undefined ? {} : { output: op.output }),
      description: describeOperation(model, op),
    })),
    partitions: result.partitions.map((partition) => {
      const report = explainPartition(model, result, partition);
      return {
        key: partition.key,
        outcome: partition.outcome,
        operations: partition.operations,
        initialState: report.initialState,
        linearization: report.linearization,
        stuck: report.stuck,
        partials: partition.partials,
        steps: partition.steps,
        searched: partition.searched,
        explained: partition.explained,
      };
    }),
  };
}
