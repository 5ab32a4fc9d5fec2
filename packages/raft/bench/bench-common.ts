/**
 * Shared pieces of the Raft benchmark (see raft-bench.ts): the command, the closed loop, the
 * apply waiter that resolves a proposal by index on the leader, and the counters. Statistics,
 * profiles and waiting are @flotilla/devkit's.
 */
import { performance } from 'node:perf_hooks';
import { quantile } from '@flotilla/devkit/bench/stats';
import { sleep } from '@flotilla/devkit/time/within';
import type {
  ApplyMsg,
  PersistedState,
  Persister,
  PersistUpdate,
  RaftClientEnd,
  RaftNode,
} from '../src/index.js';

/** Size of every proposed command, in bytes (etcd-load.mjs puts 16-byte keys and 128-byte values). */
export const COMMAND_BYTES = 128;

/** Raft timing and batching knobs passed to every node (undefined: the node's default). */
export interface RaftKnobs {
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly maxEntriesPerAppend?: number;
  readonly maxInflightAppends?: number;
}

/** What one server did, counted by the wrappers below (monotonic; diff two samples). */
export interface Counters {
  /** Persister saves: one per Ready that persists something, i.e. one fdatasync on disk. */
  saves: number;
  /** Log entries written by those saves. */
  savedEntries: number;
  /** AppendEntries sent (heartbeats included) and the entries they carried. */
  appendsOut: number;
  appendEntriesOut: number;
  /** Every RPC this server sent to a peer. */
  rpcsOut: number;
}

export function newCounters(): Counters {
  return { saves: 0, savedEntries: 0, appendsOut: 0, appendEntriesOut: 0, rpcsOut: 0 };
}

export function diffCounters(a: Counters, b: Counters): Counters {
  return {
    saves: b.saves - a.saves,
    savedEntries: b.savedEntries - a.savedEntries,
    appendsOut: b.appendsOut - a.appendsOut,
    appendEntriesOut: b.appendEntriesOut - a.appendEntriesOut,
    rpcsOut: b.rpcsOut - a.rpcsOut,
  };
}

/** The persister, counting saves and saved entries. */
export function countingPersister(inner: Persister, counters: Counters): Persister {
  return {
    load: (): PersistedState | undefined | Promise<PersistedState | undefined> => inner.load(),
    save: (update: PersistUpdate): void | Promise<void> => {
      counters.saves++;
      counters.savedEntries += update.entries?.entries.length ?? 0;
      return inner.save(update);
    },
    raftStateSize: () => inner.raftStateSize(),
    snapshotSize: () => inner.snapshotSize(),
  };
}

/** A peer end, counting RPCs and AppendEntries. */
export function countingEnd(inner: RaftClientEnd, counters: Counters): RaftClientEnd {
  return {
    call: (method, args) => {
      counters.rpcsOut++;
      if (method === 'Raft.AppendEntries') {
        counters.appendsOut++;
        counters.appendEntriesOut += (args as { entries: readonly unknown[] }).entries.length;
      }
      return inner.call(method, args);
    },
  };
}

/** A fresh 128-byte command: client id and sequence number up front, filler after. */
export function makeCommand(client: number, seq: number): Uint8Array {
  const bytes = new Uint8Array(COMMAND_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, client);
  view.setUint32(4, seq);
  bytes.fill(0x61 + (seq % 26), 8);
  return bytes;
}

/** How one proposal ended, as seen by the node that was asked to propose it. */
export type ProposeOutcome =
  /** Applied on this node at the index and term `start` returned. */
  | { readonly ok: true; readonly index: number }
  /** Not proposed: this node is not the leader (it names the leader it knows of, if any). */
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leaderId: number | null }
  /** Proposed, but another entry was applied at its index (leadership changed). */
  | { readonly ok: false; readonly reason: 'lost'; readonly leaderId: number | null };

/**
 * Proposes on one node and resolves when THAT node applies the proposal's index (matched by
 * index from onApply; the term tells whether the entry there is ours).
 */
export class ApplyWaiter {
  readonly #node: RaftNode;
  readonly #waiting = new Map<number, { term: number; resolve: (o: ProposeOutcome) => void }>();
  readonly #unsubscribe: () => void;

  constructor(node: RaftNode) {
    this.#node = node;
    this.#unsubscribe = node.onApply((msg) => this.#onApply(msg));
  }

  propose(command: Uint8Array): Promise<ProposeOutcome> | ProposeOutcome {
    const { index, term, isLeader } = this.#node.start(command);
    if (!isLeader) return { ok: false, reason: 'not-leader', leaderId: this.#node.leaderId };
    return new Promise((resolve) => this.#waiting.set(index, { term, resolve }));
  }

  /** Proposals not yet applied. */
  get pending(): number {
    return this.#waiting.size;
  }

  close(): void {
    this.#unsubscribe();
    this.#waiting.clear();
  }

  #onApply(msg: ApplyMsg): void {
    const waiter = this.#waiting.get(msg.index);
    if (waiter === undefined) return;
    this.#waiting.delete(msg.index);
    if (msg.type === 'command' && msg.term === waiter.term) {
      waiter.resolve({ ok: true, index: msg.index });
    } else {
      waiter.resolve({ ok: false, reason: 'lost', leaderId: this.#node.leaderId });
    }
  }
}

/**
 * The unmeasured phase before a closed loop's window: at least `ms`, and also until `commits`
 * proposals have committed, but no longer than `maxMs` in all. A time alone does not warm up
 * C=1: V8 optimizes the hot path (ws, msgpackr, the node, the persister) only after some
 * thousands of commits, ~3,000-4,000 over WebSocket, and until then each commit costs 2-3x the
 * CPU; at C=1 a 1 s warmup is ~500 of them, so the window measured that ramp, while C=64 gets
 * there in a fraction of a second.
 */
export interface Warmup {
  readonly ms: number;
  readonly commits: number;
  readonly maxMs: number;
}

/** One closed-loop measurement of one setup at one concurrency. */
export interface LoopResult {
  /** Proposals that committed (and were applied on the leader) in the measured window. */
  readonly commits: number;
  /** Proposals that failed (not leader, lost, RPC failure). */
  readonly failures: number;
  readonly seconds: number;
  readonly commitsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Commits in the second half of the measured window over those in the first (1: steady). */
  readonly secondHalfRatio: number;
  /** The warmup that was run: its commits and seconds. */
  readonly warmupCommits: number;
  readonly warmupSeconds: number;
}

/**
 * `concurrency` clients, each with one proposal in flight: propose, wait for the outcome,
 * propose the next. A warmup phase runs first (not measured, see Warmup), then the measured
 * phase until its time is up; a proposal in flight at the deadline is waited for and counted
 * (as etcd-load.mjs does). `propose` resolves true for a commit, false for a failure.
 */
export async function closedLoop(options: {
  readonly concurrency: number;
  readonly warmup: Warmup;
  readonly measureMs: number;
  readonly propose: (client: number, seq: number) => Promise<boolean>;
  /** Runs between the phases, with nothing in flight (e.g. to read CPU counters). */
  readonly beforeMeasure?: () => unknown;
  /** Runs right after the measured phase, with nothing in flight. */
  readonly afterMeasure?: (window: { commits: number; seconds: number }) => unknown;
}): Promise<LoopResult> {
  const { concurrency, warmup, measureMs, propose } = options;
  let seq = 0;
  let firstHalf = 0;
  let secondHalf = 0;
  /** Runs for `ms`, and past it until `minCommits` have committed, up to `maxMs`. */
  const phase = async (
    ms: number,
    latencies: number[] | undefined,
    minCommits = 0,
    maxMs = ms,
  ): Promise<{ failures: number; commits: number }> => {
    const start = performance.now();
    const deadline = start + ms;
    const hardDeadline = start + Math.max(ms, maxMs);
    const half = start + ms / 2;
    let failures = 0;
    let commits = 0;
    const more = (now: number): boolean =>
      now < deadline || (commits < minCommits && now < hardDeadline);
    await Promise.all(
      Array.from({ length: concurrency }, async (_, client) => {
        while (more(performance.now())) {
          const t0 = performance.now();
          const ok = await propose(client, seq++);
          if (!ok) {
            failures++;
            // Leadership is moving: do not spin.
            await sleep(20);
            continue;
          }
          const t1 = performance.now();
          commits++;
          latencies?.push(t1 - t0);
          if (t1 < half) firstHalf++;
          else secondHalf++;
        }
      }),
    );
    return { failures, commits };
  };
  let warmed = { failures: 0, commits: 0 };
  const w0 = performance.now();
  if (warmup.ms > 0 || warmup.commits > 0) {
    warmed = await phase(warmup.ms, undefined, warmup.commits, warmup.maxMs);
  }
  const warmupSeconds = (performance.now() - w0) / 1000;
  await options.beforeMeasure?.();
  firstHalf = 0;
  secondHalf = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  const { failures } = await phase(measureMs, latencies);
  const seconds = (performance.now() - t0) / 1000;
  await options.afterMeasure?.({ commits: latencies.length, seconds });
  latencies.sort((a, b) => a - b);
  return {
    commits: latencies.length,
    failures,
    seconds,
    commitsPerSecond: latencies.length / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    maxMs: latencies[latencies.length - 1] ?? Number.NaN,
    secondHalfRatio: firstHalf === 0 ? Number.NaN : secondHalf / firstHalf,
    warmupCommits: warmed.commits,
    warmupSeconds,
  };
}
