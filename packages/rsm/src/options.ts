import type { RaftNodeOptions } from '@flotilla/raft';
import { RsmConfigError } from './errors.js';
import type { AnyStateMachine } from './state-machine.js';

/** `maxraftstate` that never snapshots (the labs' -1). */
export const NEVER_SNAPSHOT = -1;
/** How long `submit` waits for its entry to be applied before `SubmitTimeoutError` (ms). */
export const DEFAULT_SUBMIT_TIMEOUT_MS = 2000;
/** How long `read` waits before `ReadTimeoutError` (ms). */
export const DEFAULT_READ_TIMEOUT_MS = 2000;

/** The longest delay a Node.js timer keeps (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How `read` reaches a linearizable state. */
export type ReadMode =
  /** `raft.readIndex()` (one heartbeat round, no log write), then wait until applied that far. */
  | 'read-index'
  /** A marker entry through the log, read when it is applied: a log write per read (for comparison). */
  | 'log';

/**
 * Options of `ReplicatedStateMachine.create`: the state machine, rsm's own settings, and
 * every `RaftNodeOptions` setting except the three rsm owns: `onApply` (rsm is the apply
 * stream's reader), `noopOnElection` (always on: a new leader's no-op commits what its
 * predecessors left and lets reads be served at once; rsm skips it) and `onFatal` (rsm's
 * own, below, is called after rsm has closed itself).
 */
export interface ReplicatedStateMachineOptions<M extends AnyStateMachine>
  extends Omit<RaftNodeOptions, 'onApply' | 'noopOnElection' | 'onFatal'> {
  readonly machine: M;
  /**
   * Snapshot once the persister's Raft state (`persister.raftStateSize()`) reaches this many
   * bytes, at most once per batch of applied entries; `-1` (the default) never snapshots.
   */
  readonly maxraftstate?: number;
  /** Default 2,000 ms: a submit not applied by then rejects with `SubmitTimeoutError`. */
  readonly submitTimeoutMs?: number;
  /** Default 2,000 ms: a read not answered by then rejects with `ReadTimeoutError`. */
  readonly readTimeoutMs?: number;
  /** Default `'read-index'`. */
  readonly reads?: ReadMode;
  /**
   * Called once if the Raft node stops on its own once running (a failed save, a broken
   * invariant, or the machine's `apply`, `restore` or `snapshot` threw), after rsm has
   * rejected its waiters with `RsmClosedError`; `err` is the cause. Still call `close()`. A
   * failure while `create` runs (the saved snapshot cannot be restored) rejects `create`
   * instead.
   */
  readonly onFatal?: (err: unknown) => void;
  /**
   * Run by `close()` after the Raft node has stopped, and awaited: hand rsm what it should
   * close with it (e.g. `() => persister.close()`). By default rsm closes only the node it
   * made; the persister and the peer ends were given to it (the lab copies the persister for
   * the restarted server).
   */
  readonly onClose?: () => void | Promise<void>;
}

/** rsm's own settings, defaults filled in and checked. */
export interface RsmSettings {
  readonly maxraftstate: number;
  readonly submitTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly reads: ReadMode;
}

function timeout(option: string, value: number | undefined, fallback: number): number {
  const ms = value ?? fallback;
  if (!(Number.isSafeInteger(ms) && ms >= 1 && ms <= MAX_TIMER_MS)) {
    throw new RsmConfigError(
      option,
      `(${String(ms)}) must be an integer from 1 to ${MAX_TIMER_MS}`,
    );
  }
  return ms;
}

const isFunction = (value: unknown): boolean => typeof value === 'function';

/** Checks rsm's options (Raft checks its own); throws `RsmConfigError` naming the one at fault. */
export function rsmSettings(options: ReplicatedStateMachineOptions<AnyStateMachine>): RsmSettings {
  const { machine, persister } = options;
  if (
    typeof machine !== 'object' ||
    machine === null ||
    !isFunction(machine.apply) ||
    !isFunction(machine.snapshot) ||
    !isFunction(machine.restore)
  ) {
    throw new RsmConfigError('machine', 'must have apply(), snapshot() and restore()');
  }
  if (machine.sessionsFor !== undefined && !isFunction(machine.sessionsFor)) {
    throw new RsmConfigError('machine', 'sessionsFor must be a function when given');
  }
  if (typeof persister !== 'object' || persister === null || !isFunction(persister.raftStateSize)) {
    throw new RsmConfigError('persister', 'must have raftStateSize()');
  }
  const maxraftstate = options.maxraftstate ?? NEVER_SNAPSHOT;
  if (!(Number.isSafeInteger(maxraftstate) && maxraftstate >= NEVER_SNAPSHOT)) {
    throw new RsmConfigError(
      'maxraftstate',
      `(${String(maxraftstate)}) must be -1 (never snapshot) or a number of bytes ≥ 0`,
    );
  }
  const reads = options.reads ?? 'read-index';
  if (reads !== 'read-index' && reads !== 'log') {
    throw new RsmConfigError('reads', `(${String(reads)}) must be 'read-index' or 'log'`);
  }
  for (const name of ['onFatal', 'onClose'] as const) {
    if (options[name] !== undefined && !isFunction(options[name])) {
      throw new RsmConfigError(name, 'must be a function when given');
    }
  }
  return {
    maxraftstate,
    submitTimeoutMs: timeout('submitTimeoutMs', options.submitTimeoutMs, DEFAULT_SUBMIT_TIMEOUT_MS),
    readTimeoutMs: timeout('readTimeoutMs', options.readTimeoutMs, DEFAULT_READ_TIMEOUT_MS),
    reads,
  };
}

/** The snapshot rule: a snapshot is due once the Raft state has reached `maxraftstate` bytes. */
export function snapshotDue(maxraftstate: number, raftStateSize: number): boolean {
  return maxraftstate !== NEVER_SNAPSHOT && raftStateSize >= maxraftstate;
}
