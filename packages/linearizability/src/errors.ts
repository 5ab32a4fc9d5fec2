/**
 * Typed errors of @flotilla/linearizability. Each class has a stable `code`; match on the code,
 * not on the message.
 *
 * A history that is not linearizable is a result (`outcome: 'illegal'`), not an error; only
 * `assertLinearizable` turns it into a thrown `NotLinearizableError`.
 */
export class LinearizabilityError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The history cannot be checked as given: not an array, an operation without a call time, a
 * return before its call, a return event for an unknown call, an input the model does not
 * understand… `index` is the position of the offending operation or event, when there is one.
 */
export class HistoryError extends LinearizabilityError {
  readonly index: number | undefined;

  constructor(message: string, index?: number) {
    super('ERR_BAD_HISTORY', index === undefined ? message : `at index ${index}: ${message}`);
    this.index = index;
  }
}

/** Thrown by `assertLinearizable` when the checker proves the history is not linearizable. */
export class NotLinearizableError extends LinearizabilityError {
  /** Where the HTML visualization was written, if it was. */
  readonly htmlPath: string | undefined;

  constructor(message: string, htmlPath: string | undefined) {
    super('ERR_NOT_LINEARIZABLE', message);
    this.htmlPath = htmlPath;
  }
}

/** Bad command-line arguments to `flotilla-lincheck`. */
export class UsageError extends LinearizabilityError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}
