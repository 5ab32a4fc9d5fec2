import {
  type ClientEnd,
  type Clock,
  drawClientId,
  LeaderCaller,
  type LeaderJudge,
  type Random,
} from '@flotilla/transport';
import { clerkErrors } from './clerk-errors.js';
import type { Config } from './config.js';
import { SessionConflictError } from './errors.js';
import {
  ErrInvalidArgument,
  ErrStale,
  ErrWrongLeader,
  isQueryReply,
  isWriteReply,
  SERVICE,
} from './protocol.js';
import { checkLeave, checkMove, checkQuery, joinGroups, toError } from './validate.js';

/** Per-attempt timeout: longer than the server's own 2 s submit and read timeouts (rsm's defaults). */
export const DEFAULT_CALL_TIMEOUT_MS = 3000;
/** Pause after every server in turn failed to answer (the lab's clerk sleeps 100 ms). */
export const DEFAULT_RETRY_DELAY_MS = 100;

export interface ClerkOptions {
  /** This clerk's id in the duplicate table; default a drawn 53-bit id. Never share one. */
  readonly clientId?: number;
  /** Per-attempt timeout (default 3,000 ms); a timed-out attempt goes to the next server. */
  readonly callTimeoutMs?: number;
  /** Pause after a full round of servers without an answer (default 100 ms). */
  readonly retryDelayMs?: number;
  readonly clock?: Clock;
  /** The client id draw (when none is given); default from the OS. */
  readonly random?: Random;
  /** Called once by `close()`, which resolves after it: e.g. to close the ends' connections. */
  readonly onClose?: () => Promise<void> | void;
}

/** The groups of a Join: gid → its servers (the lab's `map[int][]string`), or entries. */
export type JoinGroups =
  | Readonly<Record<number, readonly string[]>>
  | ReadonlyMap<number, readonly string[]>;

type Method = 'Query' | 'Join' | 'Leave' | 'Move';

/**
 * The lab's shardctrler clerk: `query`, `join`, `leave` and `move` as promises that settle
 * once, after a leader applied (or read) them. Arguments are checked before anything is sent
 * (`InvalidArgumentError`); the service refuses, the same way, what depends on the
 * configuration (a gid already joined, an unknown gid). It tries the server that answered
 * last, and on `ErrWrongLeader`, no reply or a time-out the next one, forever (pausing after
 * each full round); each write carries the clerk's id and a sequence number, so a resend
 * applies at most once (rsm's session).
 *
 * `ends` holds one end per server in any order. Operations on one clerk run one at a time in
 * call order; use several clerks for concurrency. The clerk does not close the ends it is
 * given (pass `onClose`).
 */
export class Clerk {
  readonly clientId: number;
  /** The call loop: the remembered leader, retries, pauses, one op at a time, `close()`. */
  readonly #caller: LeaderCaller;
  #seq = 0;

  constructor(ends: readonly ClientEnd[], options: ClerkOptions = {}) {
    this.#caller = new LeaderCaller(ends, {
      callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      retryDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
      clock: options.clock,
      errors: clerkErrors,
      onClose: options.onClose,
    });
    this.clientId = options.clientId ?? drawClientId(options.random);
  }

  /** Configuration `num`; the latest for -1 (the default) or any number past the latest. */
  query(num = -1): Promise<Config> {
    const invalid = checkQuery(num);
    if (invalid !== undefined) return Promise.reject(toError(invalid));
    return this.#caller.serially(() =>
      this.#call<Config>('Query', { num }, (reply) => {
        if (!isQueryReply(reply)) return undefined;
        if (reply.err === ErrWrongLeader) return { done: false };
        if (reply.err === ErrInvalidArgument) throw toError(reply.invalid);
        return { done: true, value: reply.config };
      }),
    );
  }

  /** Adds the groups (one or several) and rebalances; resolves with the new config's number. */
  join(groups: JoinGroups): Promise<number> {
    const servers: Record<string, unknown> = {};
    const entries = groups instanceof Map ? [...groups] : Object.entries(groups);
    for (const [gid, list] of entries) servers[String(gid)] = list;
    if (entries.length !== Object.keys(servers).length) {
      const gids = entries.map(([gid]) => String(gid));
      const twice = Number(gids.find((gid, i) => gids.indexOf(gid) !== i));
      return Promise.reject(
        toError({ reason: 'DUPLICATE_GID', message: `gid ${twice} is listed twice`, gid: twice }),
      );
    }
    const joined = joinGroups(servers);
    if ('invalid' in joined) return Promise.reject(toError(joined.invalid));
    const wire = Object.fromEntries(joined.groups.map(([gid, list]) => [String(gid), list]));
    return this.#write('Join', { servers: wire });
  }

  /** Removes the groups (one or several) and rebalances; resolves with the new config's number. */
  leave(gids: readonly number[]): Promise<number> {
    const invalid = checkLeave(gids);
    if (invalid !== undefined) return Promise.reject(toError(invalid));
    return this.#write('Leave', { gids: [...gids] });
  }

  /** Puts `shard` on group `gid` (no rebalancing); resolves with the new config's number. */
  move(shard: number, gid: number): Promise<number> {
    const invalid = checkMove(shard, gid);
    if (invalid !== undefined) return Promise.reject(toError(invalid));
    return this.#write('Move', { shard, gid });
  }

  /**
   * Stops the clerk. At once, the operation in progress, the queued ones and any called later
   * reject with `ClerkClosedError` (the one in progress may or may not have taken effect).
   * Then runs `onClose` and resolves after it. Idempotent.
   */
  close(): Promise<void> {
    return this.#caller.close();
  }

  #write(method: 'Join' | 'Leave' | 'Move', args: Record<string, unknown>): Promise<number> {
    return this.#caller.serially(() => {
      const seq = ++this.#seq;
      return this.#call<number>(method, { ...args, clientId: this.clientId, seq }, (reply) => {
        if (!isWriteReply(reply)) return undefined;
        if (reply.err === ErrStale) throw new SessionConflictError(this.clientId, seq);
        if (reply.err === ErrWrongLeader) return { done: false };
        if (reply.err === ErrInvalidArgument) throw toError(reply.invalid);
        return { done: true, value: reply.num };
      });
    });
  }

  #call<T>(method: Method, args: object, judge: LeaderJudge<T>): Promise<T> {
    return this.#caller.call(`${SERVICE}.${method}`, args, judge);
  }
}
