import { type ReplicatedStateMachine, RsmError } from '@flotilla/rsm';
import type { Clerk as CtrlerClerk } from '@flotilla/shardctrler';
import type { Clock, Logger, TimerHandle } from '@flotilla/transport';
import type { Source } from './custody.js';
import type { GroupEnds } from './group-ends.js';
import type { ShardKvMachine, ShardKvOp } from './machine.js';
import {
  type DeleteShardArgs,
  ErrWrongLeader,
  isDeleteShardReply,
  isPullShardReply,
  OK,
  type PullShardArgs,
  type PullShardReply,
  SERVICE,
} from './protocol.js';

/** A holder not at the handoff's configuration yet is asked again this soon, this many times. */
const NOT_READY_RETRY_MS = 10;
const NOT_READY_RETRIES = 20;

export interface ReconfigurerSettings {
  readonly pollIntervalMs: number;
  readonly pageBytes: number;
  readonly callTimeoutMs: number;
}

/**
 * A group's reconfiguration driver (the lab's poller goroutines), run on every replica but
 * acting only while it leads: every `pollIntervalMs` it asks the controller for the next
 * configuration once the group is settled, pulls the pages of the shards it gains from their
 * holders, and tells previous holders they may delete what it has. It decides nothing itself:
 * each step is proposed through the group's log, and the machine takes or ignores it when
 * applied (`ShardKvMachine`), so a step proposed twice (a resend, two leaders in a row) is
 * harmless. What it reads of the machine locally is only a hint of what to propose next.
 */
export class Reconfigurer {
  readonly #rsm: ReplicatedStateMachine<ShardKvMachine>;
  readonly #ctrler: CtrlerClerk;
  readonly #groups: GroupEnds;
  readonly #clock: Clock;
  readonly #settings: ReconfigurerSettings;
  readonly #logger: Logger | undefined;
  /** One of each in flight: the config poll, a pull per shard, a release per shard. */
  readonly #busy = new Set<string>();
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(
    rsm: ReplicatedStateMachine<ShardKvMachine>,
    ctrler: CtrlerClerk,
    groups: GroupEnds,
    clock: Clock,
    settings: ReconfigurerSettings,
    logger?: Logger,
  ) {
    this.#rsm = rsm;
    this.#ctrler = ctrler;
    this.#groups = groups;
    this.#clock = clock;
    this.#settings = settings;
    this.#logger = logger;
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#tick();
      this.#schedule();
    }, this.#settings.pollIntervalMs);
  }

  /**
   * Asks the controller for the next configuration now rather than at the next tick: another
   * group is pulling a shard that a configuration this group has not reached hands over.
   */
  pollNow(): void {
    this.#tick();
  }

  #tick(): void {
    if (this.#stopped || this.#rsm.closed || !this.#rsm.getState().isLeader) return;
    const machine = this.#rsm.machine;
    if (machine.settled) this.#once('poll', () => this.#poll(machine.config.num));
    for (const { shard, source, offset } of machine.pulls()) {
      this.#once(`pull ${shard}`, () => this.#pull(shard, source, offset));
    }
    for (const { shard, source } of machine.releases()) {
      this.#once(`release ${shard}`, () => this.#release(shard, source));
    }
  }

  #once(task: string, run: () => Promise<void>): void {
    if (this.#busy.has(task)) return;
    this.#busy.add(task);
    run()
      .catch((err: unknown) => {
        if (!this.#stopped)
          this.#logger?.warn({ err, task }, 'shardkv: reconfiguration step failed');
      })
      .finally(() => this.#busy.delete(task));
  }

  async #poll(num: number): Promise<void> {
    const next = await this.#ctrler.query(num + 1);
    if (this.#stopped || next.num !== num + 1) return;
    if (await this.#propose({ type: 'Config', config: next })) {
      const gid = this.#rsm.machine.gid;
      const shards = next.shards.flatMap((owner, shard) => (owner === gid ? [shard] : []));
      this.#logger?.info({ gid, config: next.num, shards }, 'shardkv: configuration applied');
      // Start pulling what it gained (or take the next configuration) without waiting a
      // tick: once this poll is over (it is still busy now).
      this.#clock.setTimeout(() => this.#tick(), 0);
    }
  }

  /** Pulls `shard` page by page from `offset` while this replica leads and each page is taken. */
  async #pull(shard: number, source: Source, offset: number): Promise<void> {
    let at = offset;
    let notReady = 0;
    for (;;) {
      const args: PullShardArgs = {
        shard,
        handoff: source.handoff,
        offset: at,
        maxBytes: this.#settings.pageBytes,
      };
      const round = await this.#groups.round<PullShardReply>(
        source.gid,
        source.servers,
        `${SERVICE}.PullShard`,
        args,
        (reply) => {
          if (!isPullShardReply(reply)) return undefined;
          if (reply.err === ErrWrongLeader) return { done: false };
          return { done: true, value: reply };
        },
        { timeoutMs: this.#settings.callTimeoutMs },
      );
      if (round.kind === 'refused')
        this.#logger?.warn({ shard, source, why: round.message }, 'shardkv: pull refused');
      if (this.#stopped || round.kind !== 'done') return;
      if (round.value.err !== OK) {
        // Not ready: the holder has yet to reach the configuration (our PullShard made it
        // poll). Ask again soon, a few times, rather than a whole tick later.
        if (++notReady > NOT_READY_RETRIES) return;
        await this.#sleep(NOT_READY_RETRY_MS);
        continue;
      }
      const { data, sessions, done } = round.value;
      const taken = await this.#propose({ type: 'Pulled', ...args, data, sessions, done });
      if (!taken) return;
      at += data.length + sessions.length;
      if (done) {
        const { gid } = this.#rsm.machine;
        const from = source.gid;
        this.#logger?.info(
          { gid, shard, from, handoff: source.handoff, items: at },
          'shardkv: shard received',
        );
        return;
      }
    }
  }

  async #release(shard: number, source: Source): Promise<void> {
    const args: DeleteShardArgs = { shard, handoff: source.handoff };
    const round = await this.#groups.round(
      source.gid,
      source.servers,
      `${SERVICE}.DeleteShard`,
      args,
      (reply) => {
        if (!isDeleteShardReply(reply)) return undefined;
        return reply.err === OK ? { done: true, value: undefined } : { done: false };
      },
      { timeoutMs: this.#settings.callTimeoutMs },
    );
    if (round.kind === 'refused')
      this.#logger?.warn({ shard, source, why: round.message }, 'shardkv: release refused');
    if (this.#stopped || round.kind !== 'done') return;
    await this.#propose({ type: 'Released', ...args });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#clock.setTimeout(resolve, ms));
  }

  /** Proposes one step; true if it was applied and taken. A refusal (not leader, …) waits for the next tick. */
  async #propose(op: ShardKvOp): Promise<boolean> {
    if (this.#stopped) return false;
    try {
      return (await this.#rsm.submit(op)) === 'OK';
    } catch (err) {
      if (err instanceof RsmError) return false;
      throw err;
    }
  }
}
