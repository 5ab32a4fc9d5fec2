export { type AssertOptions, assertLinearizable } from './assert.js';
export { checkEvents, checkOperations } from './check.js';
export { type CliIo, runCli } from './cli/run.js';
export {
  HistoryError,
  LinearizabilityError,
  NotLinearizableError,
  UsageError,
} from './errors.js';
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
export { KvState } from './models/kv-state.js';
export {
  type RegisterInput,
  type RegisterOutput,
  type RegisterValue,
  registerModel,
} from './models/register.js';
export {
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
  HistoryEvent,
  HistoryOperation,
  Model,
  Operation,
  Outcome,
  PartitionResult,
  ReturnEvent,
  StepResult,
} from './types.js';
