export { type App, asApp, type Emit, type KeyValue, type LoadedApp, loadApp } from './app.js';
export { builtinApps, indexer, wc } from './apps/index.js';
export { forEachWord } from './apps/words.js';
export { Coordinator, type CoordinatorOptions, type ListenOptions } from './coordinator.js';
export {
  type Assignment,
  CoordinatorCore,
  type CoreCounts,
  type CoreOptions,
  type JobFailure,
  type MapInput,
  type Phase,
  type TaskStatus,
} from './coordinator-core.js';
export {
  AppError,
  AppLoadError,
  CoordinatorUnreachableError,
  describeError,
  InputReadError,
  IntermediateError,
  JobFailedError,
  MapReduceError,
  OutputWriteError,
  ProtocolError,
  UnknownTaskError,
  UsageError,
} from './errors.js';
export { intermediateName, listOutputs, outputName, writeFileAtomic } from './files.js';
export { bucketOf, ihash } from './hash.js';
export { decodeRecordsInto, encodeRecords } from './intermediate.js';
export { checkInputs, type JobResult, type JobSummary, type ProgressSnapshot } from './job.js';
export { MapOutput } from './map-output.js';
export { formatSummary, renderProgress, summaryRecord } from './progress.js';
export {
  COORDINATOR_SERVICE,
  type MapAssignment,
  Method,
  PROTOCOL_VERSION,
  type ReduceAssignment,
  type ReportDoneArgs,
  type ReportFailedArgs,
  type ReportReply,
  type RequestTaskArgs,
  type TaskKind,
  type TaskReply,
} from './protocol.js';
export { runSequential, type SequentialOptions, type SequentialResult } from './sequential.js';
export {
  type MapTaskSpec,
  type ReduceTaskSpec,
  runMapTask,
  runReduceTask,
  type TaskStats,
} from './tasks.js';
export { runWorker, type WorkerEvent, type WorkerExit, type WorkerOptions } from './worker.js';
