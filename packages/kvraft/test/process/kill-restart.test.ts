/**
 * The issue's process-level test: 3 `flotilla-kvraft serve` processes (from src, through tsx;
 * ./cluster.ts), concurrent clerks in this process over WebSocket, and a chaos loop that
 * SIGKILLs a random server and restarts it on the same port and data dir, again and again.
 * Then the recorded history must be linearizable and no acknowledged write may be lost.
 *
 * The victim is the leader half the time (as the servers' "raft state" logs say), else a
 * follower. `--maxraftstate` is 8 KiB, so the servers snapshot every ~100 writes: a victim
 * stays down a random 0.2–1 s and then until both survivors have compacted past its last log
 * entry (at most 1.5 s from a leader's kill, 5 s from a follower's), so its only way back is
 * the leader's InstallSnapshot; a cycle that hits the cap (after a leader kill the clerks
 * stall for ~3 s) catches up from the log instead. Should no cycle have needed InstallSnapshot by
 * the last one, that one kills a follower and waits up to 10 s, so one always does. Once restarted, the loop waits (bounded) until the victim's log reaches the
 * survivors' newest snapshot and the shorter survivor log, then until every clerk has
 * completed an op since the restart.
 * Those indexes are read from the data dirs' WALs with raft's WAL reader, read-only.
 *
 * Keys a0..a2 get appends of unique tokens and gets; key r gets puts, appends and gets. Every
 * op is recorded in a KvHistory with its call and return times (real time); an op cut short by
 * closing its clerk is recorded with no return (unknown outcome). Checks at the end: the
 * history, with a final get of each key through a fresh clerk, is linearizable (Unknown, a
 * time-out of the checker, fails the test too); each append key holds every acknowledged
 * token exactly once, nothing that was never appended, and each clerk's tokens in its own
 * order; r holds at most one put's value followed by append tokens, each once; every server
 * exits 0 on SIGTERM, and none exited on its own or printed anything that is not a JSON log
 * line.
 *
 * Real time, bounded: every wait polls with a deadline; every child is SIGKILLed by pid in
 * afterEach and the temp dir removed. About 20–35 s on a loaded 2-core machine, most of it
 * the servers' restarts (~1–3 s each to "listening", tsx included) and the ~3 s stall after
 * each leader kill. FLOTILLA_SEED=<n> replays the chaos loop's
 * and the clerks' random choices (not the machine's timing).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePorts } from '@flotilla/devkit/net/ports';
import { Procs } from '@flotilla/devkit/proc/procs';
import { poll, sleep, within } from '@flotilla/devkit/time/within';
import { KvHistory } from '@flotilla/labkit';
import type { KvClerk } from '@flotilla/linearizability';
import { chooseSeed, realClock, SeededRandom, silentLogger } from '@flotilla/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { type Clerk, ClerkClosedError, connectClerk } from '../../src/index.js';
import {
  type DiskState,
  logLines,
  ProcessCluster,
  readDiskState,
  summarizeLogs,
} from './cluster.js';

const NSERVERS = 3;
const NCLIENTS = 5;
const CYCLES = 6;
const MAXRAFTSTATE = 8 * 1024;
const APPEND_KEYS = ['a0', 'a1', 'a2'] as const;
const PUT_KEY = 'r';
/** A clerk's pause between two ops: uniform 0..PAUSE_MS, to keep the history small. */
const PAUSE_MS = 30;
/** A victim stays down at least this long, plus up to DOWN_EXTRA_MS (random). */
const DOWN_MIN_MS = 200;
const DOWN_EXTRA_MS = 800;
/**
 * The longest a victim stays down waiting for the survivors to compact past its log, from the
 * kill. A killed leader stalls the clerks for about 3 s (each clerk's attempt to a replica
 * that is down waits its whole 3 s call timeout), so after a leader kill the survivors seldom
 * get there in time: the victim comes back while the clerks are still stalled and catches up
 * from the leader's log. A killed follower stalls nothing, and the survivors compact past it
 * in ~0.5–1.5 s (more under load).
 */
const LEADER_DOWN_MAX_MS = 1500;
const FOLLOWER_DOWN_MAX_MS = 5000;
/**
 * The last cycle, if no restart so far needed InstallSnapshot, kills a follower and waits up
 * to this long: the test then always covers one.
 */
const MUST_INSTALL_DOWN_MAX_MS = 10_000;
/** An op this slow waited out at least one call timeout (3 s, the clerk's default). */
const SLOW_OP_MS = 2500;
/** Ops completed after a restart before the next kill (at least one by every clerk). */
const PROGRESS_OPS = 10;
const TOKEN = randomBytes(16).toString('hex');

const procs = new Procs();
const clerks: Clerk[] = [];
let baseDir: string | undefined;

afterEach(async () => {
  try {
    await within(
      Promise.all(clerks.splice(0).map((clerk) => clerk.close())),
      5000,
      'the clerks to close',
    ).catch((err: unknown) => console.error(err));
  } finally {
    await procs.killAll();
    if (baseDir !== undefined) await rm(baseDir, { recursive: true, force: true });
    baseDir = undefined;
  }
});

function newClerk(urls: readonly string[]): Clerk {
  const clerk = connectClerk(urls, { authToken: TOKEN, logger: silentLogger });
  clerks.push(clerk);
  return clerk;
}

const appendToken = (cli: number, j: number): string => `x ${cli} ${j} y`;
const putValue = (cli: number, j: number): string => `p ${cli} ${j} q`;

/** What the clerks did, for the checks and the report. */
class Workload {
  done = false;
  completed = 0;
  /** Ops completed, by clerk. */
  readonly byClient: number[] = Array.from({ length: NCLIENTS }, () => 0);
  /** Ops that took SLOW_OP_MS or more, with their latency. */
  readonly slow: string[] = [];
  readonly counts = { get: 0, put: 0, append: 0 };
  /** Every append token sent, by key; the acknowledged ones. */
  readonly issued = new Map<string, Set<string>>();
  readonly acked = new Map<string, Set<string>>();
  readonly puts = new Set<string>();
  /** Ops cut short by close (unknown outcome), and what each clerk is doing now. */
  readonly cut: string[] = [];
  readonly inFlight: Array<{ what: string; since: number } | undefined> = [];
  maxLatencyMs = 0;
  maxLatencyOp = '';

  note(map: Map<string, Set<string>>, key: string, token: string): void {
    let set = map.get(key);
    if (set === undefined) {
      set = new Set();
      map.set(key, set);
    }
    set.add(token);
  }

  /** One clerk's loop until `done`: a random op, then a short random pause. */
  async run(cli: number, clerk: KvClerk, random: SeededRandom): Promise<void> {
    for (let j = 0; !this.done; j++) {
      const key = random.next() < 0.25 ? PUT_KEY : (random.pick(APPEND_KEYS) as string);
      const draw = random.next();
      const kind: 'get' | 'put' | 'append' =
        key === PUT_KEY
          ? draw < 0.35
            ? 'put'
            : draw < 0.7
              ? 'append'
              : 'get'
          : draw < 0.6
            ? 'append'
            : 'get';
      let op: Promise<unknown>;
      let what: string;
      if (kind === 'get') {
        what = `get(${key})`;
        op = clerk.get(key);
      } else if (kind === 'put') {
        const value = putValue(cli, j);
        this.puts.add(value);
        what = `put(${key}, ${value})`;
        op = clerk.put(key, value);
      } else {
        const token = appendToken(cli, j);
        this.note(this.issued, key, token);
        what = `append(${key}, ${token})`;
        op = clerk.append(key, token);
      }
      const since = performance.now();
      this.inFlight[cli] = { what, since };
      try {
        await op;
      } catch (err) {
        if (err instanceof ClerkClosedError) {
          this.cut.push(`clerk ${cli}: ${what}`);
          return;
        }
        throw err;
      }
      this.inFlight[cli] = undefined;
      const ms = performance.now() - since;
      if (ms >= SLOW_OP_MS) this.slow.push(`${Math.round(ms)} ms clerk ${cli}: ${what}`);
      if (ms > this.maxLatencyMs) {
        this.maxLatencyMs = ms;
        this.maxLatencyOp = `clerk ${cli}: ${what}`;
      }
      if (kind === 'append') this.note(this.acked, key, what.slice(`append(${key}, `.length, -1));
      this.counts[kind]++;
      this.completed++;
      this.byClient[cli] = (this.byClient[cli] ?? 0) + 1;
      await sleep(random.int(PAUSE_MS + 1));
    }
  }

  stuck(now: number): string[] {
    return this.inFlight.flatMap((op, cli) =>
      op === undefined ? [] : [`clerk ${cli}: ${op.what} for ${Math.round(now - op.since)} ms`],
    );
  }
}

interface CycleReport {
  readonly victim: number;
  readonly wasLeader: boolean;
  readonly downMs: number;
  /** The survivors compacted past the victim's last entry while it was down. */
  readonly installNeeded: boolean;
  readonly victimLastIndex: number;
  readonly survivorsSnapshot: number;
  readonly target: number;
  readonly listenMs: number;
  readonly catchUpMs: number;
  readonly ops: number;
}

/** A data dir's state, polled through a compaction's rename or a WAL not written yet. */
function diskState(dir: string, what: string): Promise<DiskState> {
  return poll(what, () => readDiskState(dir), { timeoutMs: 5000, everyMs: 20 });
}

async function survivorsState(
  cluster: ProcessCluster,
  victim: number,
): Promise<{ minSnapshot: number; maxSnapshot: number; minLast: number }> {
  const states = await Promise.all(
    cluster.dirs.filter((_, id) => id !== victim).map((dir) => diskState(dir, `the WAL of ${dir}`)),
  );
  const snapshots = states.map((s) => s.snapshotIndex);
  return {
    minSnapshot: Math.min(...snapshots),
    maxSnapshot: Math.max(...snapshots),
    minLast: Math.min(...states.map((s) => s.lastIndex)),
  };
}

/** Parses a value into its tokens; throws if anything else is in it. */
function tokensOf(key: string, value: string, pattern: RegExp): string[] {
  const tokens = value.match(pattern) ?? [];
  expect(tokens.join(''), `key ${key}: the value holds nothing but tokens`).toBe(value);
  return tokens;
}

const APPEND_TOKEN = /x \d+ \d+ y/g;

/** Each client's tokens in `tokens` come in its own call order (j increasing). */
function expectClientOrder(key: string, tokens: readonly string[]): void {
  const last = new Map<string, number>();
  for (const token of tokens) {
    const [, cli, j] = token.split(' ') as [string, string, string];
    const prev = last.get(cli) ?? -1;
    expect(
      Number(j),
      `key ${key}: clerk ${cli}'s appends out of order at ${token}`,
    ).toBeGreaterThan(prev);
    last.set(cli, Number(j));
  }
}

function expectEachOnce(key: string, tokens: readonly string[], issued: ReadonlySet<string>): void {
  const seen = new Set<string>();
  for (const token of tokens) {
    expect(seen.has(token), `key ${key}: ${token} applied twice`).toBe(false);
    expect(issued.has(token), `key ${key}: ${token} was never appended to it`).toBe(true);
    seen.add(token);
  }
}

describe('kvraft processes over WebSocket: SIGKILL and restart', () => {
  it(`${NSERVERS} servers, ${NCLIENTS} clerks, ${CYCLES} kill/restart cycles of a random server: history linearizable, no acknowledged write lost`, async () => {
    const t0 = performance.now();
    const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
    const seed = chooseSeed();
    console.info(`kill-restart: seed ${seed} (FLOTILLA_SEED=${seed} replays the choices)`);
    const random = new SeededRandom(seed);
    baseDir = await mkdtemp(join(tmpdir(), 'kvraft-kill-restart-'));
    const cluster = new ProcessCluster({
      procs,
      baseDir,
      ports: await freePorts(NSERVERS),
      authToken: TOKEN,
      maxraftstate: MAXRAFTSTATE,
    });

    await Promise.all(cluster.urls.map((_, id) => cluster.start(id)));
    const upAt = elapsed();
    // A first read through a clerk (not recorded; it changes nothing): a leader serves.
    const history = new KvHistory(realClock);
    const first = newClerk(cluster.urls);
    await within(first.get(PUT_KEY), 20_000, 'a first get (a leader elected)');
    await first.close();

    const work = new Workload();
    const loops = Array.from({ length: NCLIENTS }, (_, cli) =>
      work.run(cli, history.record(cli, newClerk(cluster.urls)), random.fork()),
    );
    // A clerk that fails (anything but a close) stops the chaos too.
    let clerkFailure: unknown;
    for (const loop of loops) loop.catch((err: unknown) => (clerkFailure ??= err));

    const cycles: CycleReport[] = [];
    try {
      // Some history before the first kill.
      await poll(
        `${PROGRESS_OPS} ops to complete before the first kill`,
        () => (work.completed >= PROGRESS_OPS || clerkFailure !== undefined ? true : undefined),
        { timeoutMs: 15_000, everyMs: 20 },
      );
      for (let c = 0; c < CYCLES; c++) {
        if (clerkFailure !== undefined) throw clerkFailure;
        // The leader half the time (as its logs say), else a follower: both kinds get killed.
        const leader = cluster.leader();
        const followers = [...cluster.urls.keys()].filter((id) => id !== leader?.id);
        const mustInstall = c === CYCLES - 1 && !cycles.some((cycle) => cycle.installNeeded);
        const victim =
          leader !== undefined && !mustInstall && random.next() < 0.5
            ? leader.id
            : random.pick(followers);
        const downMaxMs = mustInstall
          ? MUST_INSTALL_DOWN_MAX_MS
          : victim === leader?.id
            ? LEADER_DOWN_MAX_MS
            : FOLLOWER_DOWN_MAX_MS;
        const opsBefore = work.completed;
        const killedAt = performance.now();
        await cluster.kill(victim);
        const dead = await diskState(cluster.dirs[victim] as string, `server ${victim}'s WAL`);
        await sleep(DOWN_MIN_MS + random.int(DOWN_EXTRA_MS + 1));
        // Down until the survivors' snapshots cover more than the victim's log (bounded).
        const compacted = await poll(
          `both survivors to snapshot past server ${victim}'s last entry ${dead.lastIndex}`,
          async () => {
            const s = await survivorsState(cluster, victim);
            return s.minSnapshot > dead.lastIndex ? s : undefined;
          },
          { timeoutMs: Math.max(0, downMaxMs - (performance.now() - killedAt)), everyMs: 50 },
        ).catch(() => undefined);
        // The catch-up mark: the survivors' newest snapshot (committed) and the shorter of
        // their logs. The clerks keep writing, so the victim's log gets past both either way.
        const atRestart = await survivorsState(cluster, victim);
        const target = Math.max(atRestart.maxSnapshot, atRestart.minLast);
        const downMs = performance.now() - killedAt;

        const inc = await cluster.start(victim);
        const restartedAt = performance.now();
        const opsAtRestart = work.completed;
        const byClientAtRestart = [...work.byClient];
        // Caught up: its log reaches the mark.
        await poll(
          `restarted server ${victim} to catch up to index ${target}`,
          async () => {
            const state = await readDiskState(cluster.dirs[victim] as string);
            return state !== undefined && state.lastIndex >= target ? true : undefined;
          },
          { timeoutMs: 15_000, everyMs: 50 },
        );
        const catchUpMs = performance.now() - restartedAt;
        // Serving again, every clerk: each completed an op since the restart, and all of them
        // a few (a clerk stuck through cycle after cycle would otherwise go unnoticed).
        await poll(
          `every clerk to complete an op, and ${PROGRESS_OPS} in all, after server ${victim}'s restart`,
          () =>
            (work.completed >= opsAtRestart + PROGRESS_OPS &&
              work.byClient.every((n, cli) => n > (byClientAtRestart[cli] ?? 0))) ||
            clerkFailure !== undefined
              ? true
              : undefined,
          { timeoutMs: 15_000, everyMs: 20 },
        ).catch((err: unknown) => {
          throw new Error(
            `${(err as Error).message}; in flight: ${work.stuck(performance.now()).join(', ')}`,
          );
        });
        if (clerkFailure !== undefined) throw clerkFailure;
        cycles.push({
          victim,
          wasLeader: victim === leader?.id,
          downMs: Math.round(downMs),
          installNeeded: compacted !== undefined,
          victimLastIndex: dead.lastIndex,
          survivorsSnapshot: atRestart.maxSnapshot,
          target,
          listenMs: Math.round(inc.startMs ?? 0),
          catchUpMs: Math.round(catchUpMs),
          ops: work.completed - opsBefore,
        });
        const unexpected = cluster.unexpectedExits();
        if (unexpected.length > 0) {
          throw new Error(
            `servers exited on their own: ${unexpected.map((i) => `${i.proc.name}\n${i.proc.stderr.slice(-2000)}`).join('\n')}`,
          );
        }
      }
    } finally {
      work.done = true;
    }
    const chaosAt = elapsed();

    // Every clerk finishes the op it is in (all three servers are up), then stops.
    const finished = await within(Promise.all(loops), 20_000, 'the clerks to finish').then(
      () => true,
      () => false,
    );
    const stuck = work.stuck(performance.now());
    await Promise.all(clerks.map((clerk) => clerk.close()));
    await within(Promise.allSettled(loops), 5000, 'the clerks to stop after close');
    if (clerkFailure !== undefined) throw clerkFailure;

    // The final state, through a fresh clerk, recorded too.
    const final = history.record(NCLIENTS, newClerk(cluster.urls));
    const values = new Map<string, string>();
    for (const key of [...APPEND_KEYS, PUT_KEY]) {
      values.set(key, await within(final.get(key), 15_000, `a final get(${key})`));
    }
    await Promise.all(clerks.map((clerk) => clerk.close()));

    // (a) Linearizable. Illegal throws (with the visualization's path); Unknown fails too.
    const checkStarted = performance.now();
    const result = history.check({ timeLimitMs: 15_000, log: (line) => console.info(line) });
    const checkMs = performance.now() - checkStarted;
    expect(
      result.outcome,
      `the linearizability check of ${history.size} ops ended ${result.outcome} after ${Math.round(checkMs)} ms`,
    ).toBe('ok');

    // (b) No acknowledged write lost, none applied twice, nothing made up.
    for (const key of APPEND_KEYS) {
      const tokens = tokensOf(key, values.get(key) ?? '', APPEND_TOKEN);
      expectEachOnce(key, tokens, work.issued.get(key) ?? new Set());
      expectClientOrder(key, tokens);
      const present = new Set(tokens);
      const lost = [...(work.acked.get(key) ?? [])].filter((token) => !present.has(token));
      expect(lost, `key ${key}: acknowledged appends missing from ${values.get(key)}`).toEqual([]);
    }
    const r = values.get(PUT_KEY) ?? '';
    const putPart = /^p \d+ \d+ q/.exec(r)?.[0] ?? '';
    if (putPart !== '')
      expect(work.puts.has(putPart), `key r: ${putPart} was never put`).toBe(true);
    const rTokens = tokensOf(PUT_KEY, r.slice(putPart.length), APPEND_TOKEN);
    expectEachOnce(PUT_KEY, rTokens, work.issued.get(PUT_KEY) ?? new Set());
    expectClientOrder(PUT_KEY, rTokens);

    // Every server stops cleanly; none stopped on its own or printed anything but JSON logs.
    const exits = await within(cluster.terminateAll(), 15_000, 'the servers to exit on SIGTERM');
    const lines = logLines(cluster.incarnations);
    const oddLines = lines.filter((line) => line.level !== 'info' && line.level !== 'warn');
    const acked = [...work.acked.values()].reduce((n, set) => n + set.size, 0);
    console.info(
      [
        `kill-restart (seed ${seed}): ${elapsed()} wall (3 up ${upAt}, chaos over ${chaosAt})`,
        `${work.completed} ops (${work.counts.get} gets, ${work.counts.put} puts, ${work.counts.append} appends, ${acked} acked), ${work.cut.length} cut by close, history ${history.size} ops checked in ${Math.round(checkMs)} ms`,
        `slowest op ${Math.round(work.maxLatencyMs)} ms (${work.maxLatencyOp}); ${work.slow.length} ops ≥ ${SLOW_OP_MS} ms: ${work.slow.join(', ')}`,
        `final lengths ${[...values].map(([k, v]) => `${k}=${v.length}`).join(' ')}`,
        ...cycles.map(
          (c, i) =>
            `cycle ${i + 1}: kill ${c.victim} (${c.wasLeader ? 'leader' : 'follower'}), down ${c.downMs} ms (its log ended at ${c.victimLastIndex}, survivors' snapshot ${c.survivorsSnapshot}, install needed: ${c.installNeeded}), listening after ${c.listenMs} ms, at index ${c.target} ${c.catchUpMs} ms later, ${c.ops} ops`,
        ),
        `server logs: ${summarizeLogs(lines)}`,
      ].join('\n  '),
    );

    expect(finished, `clerks that never finished their last op: ${stuck.join(', ')}`).toBe(true);
    expect(cycles).toHaveLength(CYCLES);
    const leaderKills = cycles.filter((c) => c.wasLeader).length;
    // P(no leader among 6 victims) = 1/64 by the draw alone; an unknown leader counts as none.
    if (leaderKills === 0) console.warn('kill-restart: no cycle killed the leader');
    // The point of the small maxraftstate: at least one restart had to take a snapshot.
    expect(
      cycles.filter((c) => c.installNeeded).length,
      'restarts that needed InstallSnapshot',
    ).toBeGreaterThan(0);
    expect(cluster.unexpectedExits().map((inc) => inc.proc.name)).toEqual([]);
    expect(
      oddLines.map((line) => `${line.server}: ${line.raw}`),
      'server stderr lines that are not info/warn JSON',
    ).toEqual([]);
    expect(exits.map((exit) => exit?.code)).toEqual([0, 0, 0]);
  }, 90_000);
});
