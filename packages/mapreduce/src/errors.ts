/**
 * Typed errors of @flotilla/mapreduce. Each class has a stable `code`; match on the code, not
 * on the message. A worker reports a failed task to the coordinator as `{ code, message }`, so
 * the codes are also part of the wire.
 */
export class MapReduceError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The app module could not be found, failed to evaluate, or does not export map and reduce. */
export class AppLoadError extends MapReduceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_APP_LOAD', message, options);
  }
}

/** The app's map, reduce or combine threw, or produced something that is not a string pair. */
export class AppError extends MapReduceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_APP', message, options);
  }
}

/** An input file could not be read (missing, a directory, no permission). */
export class InputReadError extends MapReduceError {
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('ERR_INPUT_READ', message, options);
    this.path = path;
  }
}

/** An intermediate file `mr-X-Y` is missing or not in the format a map task writes. */
export class IntermediateError extends MapReduceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INTERMEDIATE', message, options);
  }
}

/** An intermediate or output file could not be written. */
export class OutputWriteError extends MapReduceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_OUTPUT_WRITE', message, options);
  }
}

/** A report names a task the coordinator never handed out (wrong id, kind or attempt). */
export class UnknownTaskError extends MapReduceError {
  constructor(message: string) {
    super('ERR_UNKNOWN_TASK', message);
  }
}

/** The coordinator answered with something that is not the protocol this worker speaks. */
export class ProtocolError extends MapReduceError {
  constructor(message: string) {
    super('ERR_PROTOCOL', message);
  }
}

/** The worker never reached the coordinator, or the coordinator refused its auth token. */
export class CoordinatorUnreachableError extends MapReduceError {
  constructor(message: string) {
    super('ERR_COORDINATOR_UNREACHABLE', message);
  }
}

/**
 * The coordinator was closed: `listen` after `close`, and `result` when the job was not over
 * by then.
 */
export class CoordinatorClosedError extends MapReduceError {
  constructor(message = 'the coordinator is closed') {
    super('ERR_COORDINATOR_CLOSED', message);
  }
}

/** A task failed `maxTaskFailures` times: the job stops and reports this. */
export class JobFailedError extends MapReduceError {
  constructor(message: string) {
    super('ERR_JOB_FAILED', message);
  }
}

/** Bad options or command-line arguments. */
export class UsageError extends MapReduceError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

/** `{ code, message }` of any thrown value, for reports and logs. */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof MapReduceError) return { code: err.code, message: err.message };
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'ERR_UNEXPECTED', message: err.message };
  }
  return { code: 'ERR_UNEXPECTED', message: String(err) };
}
