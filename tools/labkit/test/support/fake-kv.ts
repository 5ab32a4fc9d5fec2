import type { ClerkEnv, LabServer, ServerEnv, StartServer } from '@flotilla/labkit';
import type { KvClerk } from '@flotilla/linearizability';
import type { MemoryPersister } from '@flotilla/raft';
import { type ClientEnd, decode, encode, isRecord } from '@flotilla/transport';

/**
 * A single-copy KV server for testing the harness: NOT replicated (each server has its own
 * map), with a stub Raft handle that names a leader chosen by the test. Writes go to its
 * persister as log entries (and, past maxraftstate, a snapshot of the map), so restarts and
 * sizes behave as a real service's would.
 */
export interface FakeKvOptions {
  /** The server the stub Raft says leads (read at each call); default 0. */
  readonly leader?: () => number;
  /** Gets answer the key's value before its latest write: a stale, non-linearizable server. */
  readonly stale?: boolean;
  /** Collects every server started, in start order. */
  readonly started?: FakeKvServer[];
  /** Virtual ms `startServer` takes (default 0). */
  readonly startDelayMs?: number;
}

type Op = { readonly op: 'put' | 'append'; readonly key: string; readonly value: string };

export class FakeKvServer implements LabServer {
  readonly me: number;
  readonly ends: readonly ClientEnd[];
  readonly persister: MemoryPersister;
  readonly env: ServerEnv;
  readonly data = new Map<string, string>();
  readonly services: LabServer['services'];
  readonly raft: LabServer['raft'];
  killed = false;
  closed = false;
  readonly #maxraftstate: number;
  readonly #before = new Map<string, string>();
  #lastIndex = 0;

  constructor(
    ends: readonly ClientEnd[],
    me: number,
    persister: MemoryPersister,
    maxraftstate: number,
    env: ServerEnv,
    options: FakeKvOptions,
  ) {
    this.me = me;
    this.ends = ends;
    this.persister = persister;
    this.env = env;
    this.#maxraftstate = maxraftstate;
    this.#restore();
    const leader = options.leader ?? (() => 0);
    const isLeader = (): boolean => leader() === me;
    this.raft = { getState: () => ({ term: 1, isLeader: isLeader() }) };
    const write = (op: Op['op']) => (args: unknown) => {
      if (!isLeader()) return { err: 'ErrWrongLeader' };
      const { key, value } = kv(args);
      this.#apply({ op, key, value }, true);
      return { err: 'OK' };
    };
    this.services = {
      KV: {
        Get: (args: unknown) => {
          if (!isLeader()) return { err: 'ErrWrongLeader', value: '' };
          const { key } = kv(args);
          const source = options.stale ? this.#before : this.data;
          return { err: 'OK', value: source.get(key) ?? '' };
        },
        Put: write('put'),
        Append: write('append'),
        Who: () => me,
        /** Replies `me` after `ms` of virtual time: a call that stays in flight. */
        Slow: (args: unknown) => {
          const ms = isRecord(args) && typeof args.ms === 'number' ? args.ms : 0;
          return new Promise((resolve) => env.clock.setTimeout(() => resolve(me), ms));
        },
        Throw: () => {
          throw new Error('handler bug');
        },
      },
      // Raft's service on the same network server, as the lab binds it.
      Raft: { RequestVote: () => ({ term: 1, voteGranted: false }) },
    };
  }

  kill(): void {
    this.killed = true;
  }

  async close(): Promise<void> {
    this.killed = true;
    this.closed = true;
  }

  #apply(op: Op, persist: boolean): void {
    this.#before.set(op.key, this.data.get(op.key) ?? '');
    const old = op.op === 'append' ? (this.data.get(op.key) ?? '') : '';
    this.data.set(op.key, old + op.value);
    this.#lastIndex++;
    if (!persist) return;
    this.persister.save({
      hardState: { term: 1, votedFor: null },
      entries: { from: this.#lastIndex, entries: [{ term: 1, command: op }] },
    });
    if (this.#maxraftstate > 0 && this.persister.raftStateSize() > this.#maxraftstate) {
      const data = encode([...this.data]);
      this.persister.save({ snapshot: { index: this.#lastIndex, term: 1, data } });
    }
  }

  #restore(): void {
    const state = this.persister.load();
    if (state === undefined || state instanceof Promise) return;
    if (state.snapshot !== undefined) {
      for (const [k, v] of decode(state.snapshot.data) as [string, string][]) {
        this.data.set(k, v);
      }
      this.#lastIndex = state.snapshot.index;
    }
    for (const entry of state.entries) this.#apply(entry.command as Op, false);
  }
}

function kv(args: unknown): { key: string; value: string } {
  if (!isRecord(args) || typeof args.key !== 'string') throw new TypeError('bad KV args');
  return { key: args.key, value: typeof args.value === 'string' ? args.value : '' };
}

/** The fake's `StartServer`. */
export function startFakeKv(options: FakeKvOptions = {}): StartServer<FakeKvServer> {
  return async (ends, me, persister, maxraftstate, env) => {
    if (options.startDelayMs !== undefined) {
      await new Promise<void>((resolve) =>
        env.clock.setTimeout(resolve, options.startDelayMs ?? 0),
      );
    }
    const server = new FakeKvServer(ends, me, persister, maxraftstate, env, options);
    options.started?.push(server);
    return server;
  };
}

/**
 * A clerk for the fake: tries its ends in turn from the last one that answered until one
 * answers OK, sleeping 100 ms after a round with none, forever (as the lab's clerks do).
 */
export class FakeClerk implements KvClerk {
  readonly ends: readonly ClientEnd[];
  readonly env: ClerkEnv;
  closed = false;
  #leader = 0;

  constructor(ends: readonly ClientEnd[], env: ClerkEnv) {
    this.ends = ends;
    this.env = env;
  }

  async get(key: string): Promise<string> {
    const reply = await this.#call('Get', { key });
    return typeof reply.value === 'string' ? reply.value : '';
  }

  async put(key: string, value: string): Promise<void> {
    await this.#call('Put', { key, value });
  }

  async append(key: string, value: string): Promise<void> {
    await this.#call('Append', { key, value });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async #call(method: string, args: unknown): Promise<Record<string, unknown>> {
    for (;;) {
      for (let k = 0; k < this.ends.length; k++) {
        const i = (this.#leader + k) % this.ends.length;
        const result = await (this.ends[i] as ClientEnd).call(`KV.${method}`, args);
        if (result.ok && isRecord(result.reply) && result.reply.err === 'OK') {
          this.#leader = i;
          return result.reply;
        }
      }
      await new Promise<void>((resolve) => this.env.clock.setTimeout(resolve, 100));
    }
  }
}

export const fakeClerk = (ends: readonly ClientEnd[], env: ClerkEnv): FakeClerk =>
  new FakeClerk(ends, env);

/** Whether server i's own end to server j delivers now. */
export async function reaches(server: FakeKvServer | undefined, j: number): Promise<boolean> {
  if (server === undefined) throw new Error('server is down');
  return (await (server.ends[j] as ClientEnd).call('KV.Who', {})).ok;
}

/** Server i's own end to server j (a test bug if the server is down). */
export function endOf(server: FakeKvServer | undefined, j: number): ClientEnd {
  const end = server?.ends[j];
  if (end === undefined) throw new Error('server is down');
  return end;
}
