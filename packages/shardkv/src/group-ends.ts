import {
  type ClientEnd,
  INTERRUPTED,
  type Interrupter,
  isRetryable,
  type NoReplyCode,
} from '@flotilla/transport';

/** How a caller reads one group server's reply. */
export type GroupAnswer<T> =
  | { readonly done: true; readonly value: T }
  /** Not the leader (or cannot serve now): try the group's next server. */
  | { readonly done: false }
  /** The group does not serve this (the lab's `ErrWrongGroup`): stop, re-read the configuration. */
  | { readonly wrongGroup: true };

/** Reads a reply: an answer, or undefined for a reply of the wrong shape. May throw the caller's own error. */
export type GroupJudge<T> = (reply: unknown) => GroupAnswer<T> | undefined;

/** How one round over a group's servers ended. */
export type GroupRound<T> =
  | { readonly kind: 'done'; readonly value: T }
  | { readonly kind: 'wrong-group' }
  /** Every server in turn failed to answer, or answered "try another". */
  | { readonly kind: 'no-answer' }
  /** A server answered in a way resending cannot fix (a refused call, a reply of the wrong shape). */
  | { readonly kind: 'refused'; readonly code: NoReplyCode | 'BAD_REPLY'; readonly message: string }
  /** The interrupter ended the wait (the caller is closing). */
  | { readonly kind: 'interrupted' };

/**
 * Ends to the servers of other groups, by server name (made once per name by `makeEnd`, the
 * lab's `make_end`), and the server of each group that answered last (its remembered leader).
 * Shared by the clerk and by a group's leader pulling and releasing shards.
 */
export class GroupEnds {
  readonly #makeEnd: (server: string) => ClientEnd;
  readonly #ends = new Map<string, ClientEnd>();
  readonly #leaders = new Map<number, number>();

  constructor(makeEnd: (server: string) => ClientEnd) {
    this.#makeEnd = makeEnd;
  }

  end(server: string): ClientEnd {
    let end = this.#ends.get(server);
    if (end === undefined) {
      end = this.#makeEnd(server);
      this.#ends.set(server, end);
    }
    return end;
  }

  /** Every end made so far (to close their connections). */
  get ends(): readonly ClientEnd[] {
    return [...this.#ends.values()];
  }

  /**
   * Sends `name` to group `gid`'s servers one after another, starting with the one that
   * answered last, until one answers done or wrong group, or every one has failed once.
   */
  async round<T>(
    gid: number,
    servers: readonly string[],
    name: string,
    args: unknown,
    judge: GroupJudge<T>,
    options: { readonly timeoutMs: number; readonly waits?: Interrupter },
  ): Promise<GroupRound<T>> {
    const n = servers.length;
    const first = this.#leaders.get(gid) ?? 0;
    for (let i = 0; i < n; i++) {
      const at = (first + i) % n;
      const call = this.end(servers[at] as string).call(name, args, {
        timeoutMs: options.timeoutMs,
      });
      const result = options.waits === undefined ? await call : await options.waits.race(call);
      if (result === INTERRUPTED) return { kind: 'interrupted' };
      if (!result.ok) {
        if (isRetryable(result.code)) continue;
        return {
          kind: 'refused',
          code: result.code,
          message: `${name}: ${result.message ?? result.code}`,
        };
      }
      const answer = judge(result.reply);
      if (answer === undefined) {
        return {
          kind: 'refused',
          code: 'BAD_REPLY',
          message: `${name}: the reply has the wrong shape`,
        };
      }
      if ('wrongGroup' in answer) {
        this.#leaders.set(gid, at);
        return { kind: 'wrong-group' };
      }
      if (answer.done) {
        this.#leaders.set(gid, at);
        return { kind: 'done', value: answer.value };
      }
    }
    return { kind: 'no-answer' };
  }
}
