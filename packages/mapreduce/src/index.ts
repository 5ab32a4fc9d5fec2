// The public surface: what it takes to write an app and run a job. The data path, the wire
// protocol, the state machine and the CLI's rendering are internal (tests and the CLI import
// them by path); the README's Library table lists exactly these names.
export type { App, Emit, KeyValue } from './app.js';
export { builtinApps, indexer, wc } from './apps/index.js';
export { Coordinator, type CoordinatorOptions, type ListenOptions } from './coordinator.js';
export type { JobFailure, MapInput, Phase } from './coordinator-core.js';
export {
  AppError,
  AppLoadError,
  CoordinatorClosedError,
  CoordinatorUnreachableError,
  InputReadError,
  IntermediateError,
  JobFailedError,
  MapReduceError,
  OutputWriteError,
  ProtocolError,
  UnknownTaskError,
  UsageError,
} from './errors.js';
export type { JobResult, JobSummary, ProgressSnapshot } from './job.js';
export { asApp, type LoadedApp, loadApp } from './load-app.js';
export type { TaskKind } from './protocol.js';
export { runSequential, type SequentialOptions, type SequentialResult } from './sequential.js';
export type { TaskStats } from './tasks.js';
export { runWorker, type WorkerEvent, type WorkerExit, type WorkerOptions } from './worker.js';
