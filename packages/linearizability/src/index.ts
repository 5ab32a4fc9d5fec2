// The public surface; the README's API table lists exactly these. The `flotilla-lincheck` bin
// (cli.ts) is not part of it: nothing here throws its UsageError.
export { type AssertOptions, assertLinearizable } from './assert.js';
export { checkEvents, checkOperations, explainResult } from './check.js';
export { HistoryError, LinearizabilityError, NotLinearizableError } from './errors.js';
export {
  describeOperation,
  describeState,
  explainPartition,
  formatResult,
  type LinearizationStep,
  type PartitionReport,
  type StuckOperation,
} from './explain.js';
export {
  JSON_FORMAT,
  type OperationJson,
  type PartitionJson,
  type ResultJson,
  toJson,
} from './export-json.js';
export { type HtmlOptions, renderHtml } from './html/page.js';
export {
  type CasRegisterInput,
  type CasRegisterOutput,
  casRegisterModel,
} from './models/cas-register.js';
export { type KvInput, type KvOutput, kvModel } from './models/kv.js';
export { type KvMapState, kvMapModel } from './models/kv-map.js';
// A type only: the checker makes its states; a model's user reads `.value`.
export type { KvState } from './models/kv-state.js';
export {
  type RegisterInput,
  type RegisterOutput,
  type RegisterValue,
  registerModel,
} from './models/register.js';
export {
  type Completion,
  HistoryRecorder,
  type KvClerk,
  type RecorderOptions,
  type RecordKvOptions,
  recordKvClerk,
} from './recorder.js';
export type {
  CallEvent,
  CheckOptions,
  CheckResult,
  GaveUpEvent,
  HistoryEvent,
  HistoryOperation,
  Model,
  Operation,
  Outcome,
  PartitionResult,
  ReturnEvent,
  StepResult,
} from './types.js';
