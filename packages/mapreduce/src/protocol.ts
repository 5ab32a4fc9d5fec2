import { isNonNegativeInteger, isPositiveInteger, isRecord } from '@flotilla/transport';
import type { TaskStats } from './tasks.js';

/**
 * The coordinator/worker wire: three methods on the `Coordinator` service of an `RpcServer`,
 * carried by @flotilla/transport (msgpack over WebSocket). Every request carries
 * `protocol: PROTOCOL_VERSION`; the coordinator answers anything else with `BAD_ARGUMENTS`.
 */
export const COORDINATOR_SERVICE = 'Coordinator';
export const PROTOCOL_VERSION = 1;

export const Method = {
  requestTask: `${COORDINATOR_SERVICE}.requestTask`,
  reportDone: `${COORDINATOR_SERVICE}.reportDone`,
  reportFailed: `${COORDINATOR_SERVICE}.reportFailed`,
} as const;

export type TaskKind = 'map' | 'reduce';

export interface RequestTaskArgs {
  readonly protocol: typeof PROTOCOL_VERSION;
  /** Any stable name for the worker process (the CLI uses `<host>:<pid>`). */
  readonly workerId: string;
}

export interface MapAssignment {
  readonly kind: 'map';
  readonly taskId: number;
  /** 1 for the first hand-out of this task, 2 after a timeout or failure, … */
  readonly attempt: number;
  /** The name map is called with (as given to the coordinator). */
  readonly filename: string;
  /** Absolute path to read it from. */
  readonly path: string;
  readonly nReduce: number;
  /** Absolute directory for mr-X-Y. */
  readonly dir: string;
}

export interface ReduceAssignment {
  readonly kind: 'reduce';
  readonly taskId: number;
  readonly attempt: number;
  readonly nMap: number;
  /** Absolute directory holding mr-*-Y, and for mr-out-Y. */
  readonly dir: string;
}

/**
 * The answer to `requestTask`: a task; `wait` (nothing to hand out now, ask again); or `exit`
 * (the job is over: done, or failed and nobody should keep working on it).
 */
export type TaskReply =
  | MapAssignment
  | ReduceAssignment
  | { readonly kind: 'wait' }
  | { readonly kind: 'exit'; readonly reason: 'done' | 'failed' };

export interface TaskRef {
  readonly protocol: typeof PROTOCOL_VERSION;
  readonly workerId: string;
  readonly kind: TaskKind;
  readonly taskId: number;
  readonly attempt: number;
}

export interface ReportDoneArgs extends TaskRef {
  readonly stats: TaskStats;
}

export interface ReportFailedArgs extends TaskRef {
  readonly error: { readonly code: string; readonly message: string };
}

export interface ReportReply {
  /** False for a task already finished by another attempt (the work is simply redundant). */
  readonly accepted: boolean;
  /** The job is over: the worker should exit rather than ask for more. */
  readonly exit: boolean;
}

// ---- guards: everything arriving on the wire is checked before the coordinator uses it -----

const MAX_ID_LENGTH = 256;
const MAX_MESSAGE_LENGTH = 4096;

function isTaskKind(x: unknown): x is TaskKind {
  return x === 'map' || x === 'reduce';
}

function isWorkerId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= MAX_ID_LENGTH;
}

export function isRequestTaskArgs(x: unknown): x is RequestTaskArgs {
  return isRecord(x) && x.protocol === PROTOCOL_VERSION && isWorkerId(x.workerId);
}

function isTaskRef(x: unknown): x is TaskRef {
  return (
    isRecord(x) &&
    x.protocol === PROTOCOL_VERSION &&
    isWorkerId(x.workerId) &&
    isTaskKind(x.kind) &&
    isNonNegativeInteger(x.taskId) &&
    isPositiveInteger(x.attempt)
  );
}

export function isTaskStats(x: unknown): x is TaskStats {
  return (
    isRecord(x) &&
    isNonNegativeInteger(x.inputBytes) &&
    isNonNegativeInteger(x.records) &&
    isNonNegativeInteger(x.keys) &&
    isNonNegativeInteger(x.outputBytes)
  );
}

export function isReportDoneArgs(x: unknown): x is ReportDoneArgs {
  return isTaskRef(x) && isTaskStats((x as { stats?: unknown }).stats);
}

export function isReportFailedArgs(x: unknown): x is ReportFailedArgs {
  if (!isTaskRef(x)) return false;
  const error = (x as { error?: unknown }).error;
  return (
    isRecord(error) &&
    typeof error.code === 'string' &&
    error.code.length <= MAX_ID_LENGTH &&
    typeof error.message === 'string' &&
    error.message.length <= MAX_MESSAGE_LENGTH
  );
}

/** Checks a reply from the coordinator (the worker does not trust the wire either). */
export function isTaskReply(x: unknown): x is TaskReply {
  if (!isRecord(x)) return false;
  switch (x.kind) {
    case 'wait':
      return true;
    case 'exit':
      return x.reason === 'done' || x.reason === 'failed';
    case 'map':
      return (
        isNonNegativeInteger(x.taskId) &&
        isNonNegativeInteger(x.attempt) &&
        typeof x.filename === 'string' &&
        typeof x.path === 'string' &&
        isPositiveInteger(x.nReduce) &&
        typeof x.dir === 'string'
      );
    case 'reduce':
      return (
        isNonNegativeInteger(x.taskId) &&
        isNonNegativeInteger(x.attempt) &&
        isNonNegativeInteger(x.nMap) &&
        typeof x.dir === 'string'
      );
    // `kind` is unchecked wire input, not a union: anything else is not a reply.
    default:
      return false;
  }
}

export function isReportReply(x: unknown): x is ReportReply {
  return isRecord(x) && typeof x.accepted === 'boolean' && typeof x.exit === 'boolean';
}

/** Truncates an error message to what the coordinator accepts. */
export function clipMessage(message: string): string {
  return message.length <= MAX_MESSAGE_LENGTH
    ? message
    : `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
}
