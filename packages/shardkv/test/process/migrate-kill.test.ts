/**
 * The issue's process-level test: a controller of 3 `flotilla-shardctrler serve` processes and
 * two groups of 3 `flotilla-shardkv serve` processes (./cluster.ts, from src through tsx),
 * clerks in this process over WebSocket, and a chaos loop: each cycle changes the
 * configuration (group 2 joins, leaves, or a shard moves), so shards are on the move, and at
 * once SIGKILLs a random server of a random group (half the time the leader of a group that
 * gains or loses shards), restarting it on its port and data dir 0.3–1 s later. Then the
 * recorded history must be linearizable (Unknown fails too) and no acknowledged write lost.
 *
 * Keys "0a".."9a" (one per shard) get appends of unique tokens and gets. Checks at the end,
 * with a final get of each key through a fresh clerk: the history is linearizable; each key
 * holds every acknowledged token exactly once, nothing never appended to it, and each clerk's
 * tokens in its own order; every server exits 0 on SIGTERM and none exited on its own.
 *
 * Real time, bounded: every wait polls with a deadline; every child is SIGKILLed by pid in
 * afterEach and the temp dir removed. FLOTILLA_SEED=<n> replays the loop's and the clerks'
 * random choices (not the machine's timing).
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
import { type Clerk as CtrlerClerk, connectClerk as connectCtrler } from '@flotilla/shardctrler';
import { chooseSeed, realClock, SeededRandom, silentLogger } from '@flotilla/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { type Clerk, ClerkClosedError, connectClerk } from '../../src/index.js';
import { ctrlerSet, groupSet, type ServerSet } from './cluster.js';

const NCLIENTS = 4;
const CYCLES = 8;
const GIDS = [1, 2] as const;
const MAXRAFTSTATE = 16 * 1024;
/** One key per shard: key2shard("<d>a") = (48 + d) mod 10. */
const KEYS = Array.from({ length: 10 }, (_, d) => `${d}a`);
const PAUSE_MS = 30;
const DOWN_MIN_MS = 300;
const DOWN_EXTRA_MS = 700;
/** Ops every clerk must complete after a restart before the next cycle. */
const PROGRESS_OPS = 3;
const TOKEN = randomBytes(16).toString('hex');

const procs = new Procs();
const clerks: Array<Clerk | CtrlerClerk> = [];
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

const appendToken = (cli: number, j: number): string => `x ${cli} ${j} y`;
const APPEND_TOKEN = /x \d+ \d+ y/g;

class Workload {
  done = false;
  readonly byClient: number[] = Array.from({ length: NCLIENTS }, () => 0);
  readonly issued = new Map<string, Set<string>>(KEYS.map((k) => [k, new Set()]));
  readonly acked = new Map<string, Set<string>>(KEYS.map((k) => [k, new Set()]));
  maxLatencyMs = 0;

  get completed(): number {
    return this.byClient.reduce((a, b) => a + b, 0);
  }

  async run(cli: number, clerk: KvClerk, random: SeededRandom): Promise<void> {
    for (let j = 0; !this.done; j++) {
      const key = random.pick(KEYS) as string;
      const token = appendToken(cli, j);
      const append = random.next() < 0.6;
      if (append) this.issued.get(key)?.add(token);
      const since = performance.now();
      try {
        if (append) await clerk.append(key, token);
        else await clerk.get(key);
      } catch (err) {
        if (err instanceof ClerkClosedError) return;
        throw err;
      }
      this.maxLatencyMs = Math.max(this.maxLatencyMs, performance.now() - since);
      if (append) this.acked.get(key)?.add(token);
      this.byClient[cli] = (this.byClient[cli] ?? 0) + 1;
      await sleep(random.int(PAUSE_MS + 1));
    }
  }
}

describe('shardkv processes over WebSocket: shards moving while servers are SIGKILLed', () => {
  it(`controller of 3, ${GIDS.length} groups of 3, ${NCLIENTS} clerks, ${CYCLES} reconfigure+kill cycles: linearizable, nothing acknowledged lost`, async () => {
    const t0 = performance.now();
    const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
    const seed = chooseSeed();
    console.info(`migrate-kill: seed ${seed} (FLOTILLA_SEED=${seed} replays the choices)`);
    const random = new SeededRandom(seed);
    baseDir = await mkdtemp(join(tmpdir(), 'shardkv-migrate-kill-'));
    const ports = await freePorts(3 + 3 * GIDS.length);
    const ctrler = ctrlerSet(procs, ports.slice(0, 3), baseDir, TOKEN);
    const groups = new Map<number, ServerSet>(
      GIDS.map((gid, g) => [
        gid,
        groupSet(procs, gid, ports.slice(3 + 3 * g, 6 + 3 * g), baseDir as string, {
          ctrlers: ctrler.urls,
          token: TOKEN,
          maxraftstate: MAXRAFTSTATE,
        }),
      ]),
    );
    const all = [ctrler, ...groups.values()];
    await Promise.all(all.map((set) => set.startAll()));
    const upAt = elapsed();
    const admin = connectCtrler(ctrler.urls, { authToken: TOKEN, logger: silentLogger });
    clerks.push(admin);
    const urlsOf = (gid: number): string[] => [...(groups.get(gid) as ServerSet).urls];
    await within(admin.join({ 1: urlsOf(1) }), 20_000, 'group 1 to join');

    const newClerk = (): Clerk => {
      const clerk = connectClerk(ctrler.urls, { authToken: TOKEN, logger: silentLogger });
      clerks.push(clerk);
      return clerk;
    };
    const history = new KvHistory(realClock);
    const work = new Workload();
    let clerkFailure: unknown;
    const loops = Array.from({ length: NCLIENTS }, (_, cli) =>
      work.run(cli, history.record(cli, newClerk()), random.fork()),
    );
    for (const loop of loops) loop.catch((err: unknown) => (clerkFailure ??= err));
    const progress = async (what: string): Promise<void> => {
      const before = [...work.byClient];
      await poll(
        `every clerk to complete ${PROGRESS_OPS} ops ${what}`,
        () =>
          work.byClient.every((n, cli) => n >= (before[cli] ?? 0) + PROGRESS_OPS) ||
          clerkFailure !== undefined
            ? true
            : undefined,
        { timeoutMs: 30_000, everyMs: 20 },
      );
      if (clerkFailure !== undefined) throw clerkFailure;
    };

    const cycles: string[] = [];
    try {
      await progress('before the first cycle');
      for (let c = 0; c < CYCLES; c++) {
        const config = await within(admin.query(-1), 10_000, 'a query');
        const joined2 = config.groups['2'] !== undefined;
        let change: string;
        if (!joined2) {
          await within(admin.join({ 2: urlsOf(2) }), 10_000, 'group 2 to join');
          change = 'join 2';
        } else if (random.next() < 0.5) {
          await within(admin.leave([2]), 10_000, 'group 2 to leave');
          change = 'leave 2';
        } else {
          const shard = random.int(10);
          const to = config.shards[shard] === 1 ? 2 : 1;
          await within(admin.move(shard, to), 10_000, 'a move');
          change = `move ${shard} to ${to}`;
        }
        // Mid-migration: a random group, its leader half the time.
        const gid = random.pick(GIDS) as number;
        const set = groups.get(gid) as ServerSet;
        const leader = set.leader();
        const victim = leader !== undefined && random.next() < 0.5 ? leader : random.int(3);
        await set.kill(victim);
        await sleep(DOWN_MIN_MS + random.int(DOWN_EXTRA_MS + 1));
        const listenMs = await set.start(victim);
        await progress(`after restarting group ${gid} server ${victim}`);
        cycles.push(
          `${change}, killed group ${gid} server ${victim}${victim === leader ? ' (leader)' : ''}, back in ${Math.round(listenMs)} ms`,
        );
        const unexpected = all.flatMap((s) => s.unexpectedExits());
        if (unexpected.length > 0) {
          throw new Error(
            `servers exited on their own: ${unexpected.map((i) => `${i.name}\n${i.proc.stderr.slice(-2000)}`).join('\n')}`,
          );
        }
      }
    } finally {
      work.done = true;
    }
    await within(Promise.all(loops), 30_000, 'the clerks to finish their last op');
    const reader = history.record(NCLIENTS, newClerk());
    const finals = new Map<string, string>();
    for (const key of KEYS) finals.set(key, await within(reader.get(key), 20_000, `get(${key})`));
    const exits = await Promise.all(all.map((set) => set.terminateAll()));

    const result = history.check({ log: (line) => console.info(line) });
    console.info(
      [
        `migrate-kill: up in ${upAt}, done in ${elapsed()}; ${work.completed} ops, ${history.size} recorded, slowest ${Math.round(work.maxLatencyMs)} ms`,
        ...cycles.map((line, i) => `  cycle ${i + 1}: ${line}`),
      ].join('\n'),
    );
    expect(result.outcome, 'the history is linearizable (and was checked in time)').toBe('ok');
    for (const key of KEYS) {
      const value = finals.get(key) as string;
      const tokens = value.match(APPEND_TOKEN) ?? [];
      expect(tokens.join(''), `key ${key}: nothing but tokens`).toBe(value);
      expect(new Set(tokens).size, `key ${key}: no token applied twice`).toBe(tokens.length);
      const issued = work.issued.get(key) as Set<string>;
      for (const token of tokens) expect(issued.has(token), `${key}: ${token} issued`).toBe(true);
      for (const token of work.acked.get(key) as Set<string>) {
        expect(tokens, `key ${key}: acknowledged ${token} present`).toContain(token);
      }
      const last = new Map<string, number>();
      for (const token of tokens) {
        const [, cli, j] = token.split(' ') as [string, string, string];
        expect(Number(j), `key ${key}: clerk ${cli}'s order`).toBeGreaterThan(last.get(cli) ?? -1);
        last.set(cli, Number(j));
      }
    }
    for (const exit of exits.flat()) {
      if (exit !== undefined) expect(exit.code, 'exit 0 on SIGTERM').toBe(0);
    }
  }, 240_000);
});
