import {
  type Config,
  Clerk as CtrlerClerk,
  ClerkClosedError as CtrlerClerkClosedError,
  INVALID_GID,
} from '@flotilla/shardctrler';
import {
  type ClientEnd,
  type Clock,
  drawClientId,
  Interrupter,
  type Random,
  realClock,
  refusal,
  Serial,
} from '@flotilla/transport';
import { clerkErrors } from './clerk-errors.js';
import { SessionConflictError, ShardKvConfigError } from './errors.js';
import { GroupEnds, type GroupJudge } from './group-ends.js';
import { key2shard } from './key2shard.js';
import { type KvLimits, kvLimits, oversize } from './limits.js';
import {
  ErrNoKey,
  ErrStale,
  ErrWrongGroup,
  ErrWrongLeader,
  isGetReply,
  isPutAppendReply,
  type PutAppendOp,
  SERVICE,
} from './protocol.js';

/** Per-attempt timeout: longer than the server's own 2 s submit and read timeouts (rsm's defaults). */
export const DEFAULT_CALL_TIMEOUT_MS = 3000;
/** Pause before re-reading the configuration after the owning group did not serve (the lab's 100 ms). */
export const DEFAULT_RETRY_DELAY_MS = 100;

export interface ClerkOptions extends Partial<KvLimits> {
  /** This clerk's id in the duplicate tables; default a drawn 53-bit id. Never share one. */
  readonly clientId?: number;
  /** Per-attempt timeout (default 3,000 ms); a timed-out attempt goes to the group's next server. */
  readonly callTimeoutMs?: number;
  /** Pause after a round of the owning group's servers without an answer (default 100 ms). */
  readonly retryDelayMs?: number;
  readonly clock?: Clock;
  /** The client id draw (when none is given); default from the OS. */
  readonly random?: Random;
  /** Called once by `close()`, which resolves after it: e.g. to close the ends' connections. */
  readonly onClose?: () => Promise<void> | void;
}

/**
 * The lab's shardkv clerk: `get`, `put` and `append` as promises that settle once, after the
 * group owning the key's shard applied (or read) them. It reads the latest configuration from
 * the controller, sends to the owning group's servers (the one that answered last first), and
 * on `ErrWrongGroup` re-reads the configuration, trying again at once if it changed; otherwise
 * (and after a round without an answer) it pauses, re-reads it and tries again, forever.
 * Each Put/Append carries the clerk's id and a sequence number, checked
 * against the shard's duplicate table, which moves with the shard: a resend applies at most
 * once, also when the shard moved to another group in between.
 *
 * Operations on one clerk run one at a time in call order; use several clerks for
 * concurrency. The clerk does not close the ends it is given (pass `onClose`).
 */
export class Clerk {
  readonly clientId: number;
  readonly limits: KvLimits;
  readonly #ctrler: CtrlerClerk;
  readonly #groups: GroupEnds;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #retryDelayMs: number;
  readonly #onClose: (() => Promise<void> | void) | undefined;
  readonly #waits = new Interrupter();
  #config: Config | undefined;
  #seq = 0;
  readonly #serial = new Serial(() => (this.#closed ? clerkErrors.closed() : undefined));
  #closed = false;
  #closing: Promise<void> | undefined;

  /**
   * `ctrlers`: one end per controller replica, in any order. `makeEnd`: an end to a server a
   * configuration names (the lab's `make_end`), called once per name.
   */
  constructor(
    ctrlers: readonly ClientEnd[],
    makeEnd: (server: string) => ClientEnd,
    options: ClerkOptions = {},
  ) {
    this.#timeoutMs = positive('callTimeoutMs', options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    this.#retryDelayMs = positive('retryDelayMs', options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS);
    if (typeof makeEnd !== 'function') {
      throw new ShardKvConfigError('makeEnd', 'must be a function from a server name to an end');
    }
    this.#clock = options.clock ?? realClock;
    this.#ctrler = new CtrlerClerk(ctrlers, {
      clock: this.#clock,
      random: options.random,
      callTimeoutMs: this.#timeoutMs,
      retryDelayMs: this.#retryDelayMs,
    });
    this.#groups = new GroupEnds(makeEnd);
    this.#onClose = options.onClose;
    this.clientId = options.clientId ?? drawClientId(options.random);
    this.limits = kvLimits(options);
  }

  /** The value of `key`, or "" if it was never written. */
  get(key: string): Promise<string> {
    const tooLarge = oversize(this.limits, key);
    if (tooLarge !== undefined) return Promise.reject(tooLarge);
    return this.#serial.run(() =>
      this.#call<string>(key, 'Get', { key }, (reply) => {
        if (!isGetReply(reply)) return undefined;
        if (reply.err === ErrWrongGroup) return { wrongGroup: true };
        if (reply.err === ErrWrongLeader) return { done: false };
        return { done: true, value: reply.err === ErrNoKey ? '' : reply.value };
      }),
    );
  }

  /** Sets `key` to `value`. */
  put(key: string, value: string): Promise<void> {
    return this.#putAppend('Put', key, value);
  }

  /** Appends `value` to `key`'s value; returns nothing (as in the lab). */
  append(key: string, value: string): Promise<void> {
    return this.#putAppend('Append', key, value);
  }

  /** The configuration this clerk last read from the controller, if any. */
  get config(): Config | undefined {
    return this.#config;
  }

  /**
   * Stops the clerk. At once, the operation in progress, the queued ones and any called later
   * reject with `ClerkClosedError` (the one in progress may or may not have taken effect).
   * Then closes the controller clerk, runs `onClose` and resolves. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#waits.interrupt();
      await this.#ctrler.close();
      await this.#onClose?.();
    })();
    return this.#closing;
  }

  #putAppend(op: PutAppendOp, key: string, value: string): Promise<void> {
    const tooLarge = oversize(this.limits, key, value);
    if (tooLarge !== undefined) return Promise.reject(tooLarge);
    return this.#serial.run(() => {
      const seq = ++this.#seq;
      const args = { key, value, op, clientId: this.clientId, seq };
      return this.#call<void>(key, 'PutAppend', args, (reply) => {
        if (!isPutAppendReply(reply)) return undefined;
        if (reply.err === ErrStale) throw new SessionConflictError(this.clientId, seq);
        if (reply.err === ErrWrongGroup) return { wrongGroup: true };
        if (reply.err === ErrWrongLeader) return { done: false };
        return { done: true, value: undefined };
      });
    });
  }

  /** Sends to the group that owns `key`'s shard until it answers, re-reading the configuration between rounds. */
  async #call<T>(
    key: string,
    method: 'Get' | 'PutAppend',
    args: object,
    judge: GroupJudge<T>,
  ): Promise<T> {
    const shard = key2shard(key);
    for (;;) {
      const config = this.#config ?? (await this.#query());
      const gid = config.shards[shard] as number;
      const servers = config.groups[String(gid)];
      if (gid !== INVALID_GID && servers !== undefined && servers.length > 0) {
        const sent = { ...args, configNum: config.num };
        const round = await this.#groups.round(gid, servers, `${SERVICE}.${method}`, sent, judge, {
          timeoutMs: this.#timeoutMs,
          waits: this.#waits,
        });
        if (this.#closed || round.kind === 'interrupted') throw clerkErrors.closed();
        if (round.kind === 'done') return round.value;
        if (round.kind === 'refused') {
          if (round.code === 'BAD_REPLY') throw clerkErrors.badRequest(round.message);
          throw refusal(clerkErrors, round.code, round.message);
        }
        // The group has moved on: a newer configuration may name the new owner already.
        if (round.kind === 'wrong-group' && (await this.#query()).num !== config.num) continue;
      }
      await this.#waits.sleep(this.#clock, this.#retryDelayMs);
      if (this.#closed) throw clerkErrors.closed();
      await this.#query();
    }
  }

  async #query(): Promise<Config> {
    try {
      this.#config = await this.#ctrler.query(-1);
      return this.#config;
    } catch (err) {
      if (err instanceof CtrlerClerkClosedError) throw clerkErrors.closed();
      throw err;
    }
  }
}

function positive(option: string, ms: number): number {
  if (!(Number.isFinite(ms) && ms > 0)) {
    throw new ShardKvConfigError(option, `(${String(ms)}) must be a positive number of ms`);
  }
  return ms;
}
