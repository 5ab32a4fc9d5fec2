/**
 * The typed error of @flotilla/chaos. Match on `code`, never on the message: the codes are
 * stable, the messages are for people.
 */
export type ChaosErrorCode =
  /** An option that cannot work (a probability outside [0, 1], a non-loopback host, …). */
  | 'ERR_CHAOS_CONFIG'
  /** The proxy (or link map) was closed; nothing more can be done with it. */
  | 'ERR_PROXY_CLOSED'
  /** The supervisor started no process of that name. */
  | 'ERR_UNKNOWN_PROCESS'
  /** The process is not in a state the operation needs (resume when not paused, …). */
  | 'ERR_PROCESS_STATE'
  /** The OS could not start the process (no such command, …). */
  | 'ERR_SPAWN'
  /** The awaited output did not appear in time. */
  | 'ERR_WAIT_TIMEOUT';

export class ChaosError extends Error {
  readonly code: ChaosErrorCode;

  constructor(code: ChaosErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad option: the message names it. */
export function configError(option: string, message: string): ChaosError {
  return new ChaosError('ERR_CHAOS_CONFIG', `${option} ${message}`);
}
