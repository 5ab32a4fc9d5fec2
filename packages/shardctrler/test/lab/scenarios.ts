import { LabError } from '@flotilla/labkit';
import { type Clerk, type Config, NSHARDS } from '../../src/index.js';
import {
  check,
  checkNoShuffleAfterJoin,
  checkNoShuffleAfterLeave,
  checkSameConfig,
  checkServers,
} from './checks.js';
import { type CtrlerConfig, type LabRunOptions, runCtrlerTest } from './config.js';

/** The lab's shardctrler tests run 3 servers on a reliable network. */
const NSERVERS = 3;
/** Concurrent clerks in ConcurrentLeaveJoin (the lab's `npara`). */
const NPARA = 10;

/** One subtest of a lab test: its name, and the lab's "Test: … ..." line. */
export interface Subtest {
  readonly name: string;
  readonly what: string;
}

/** What happened to each subtest of one run: passed, failed (with why), or not reached. */
export type SubtestOutcome =
  | { readonly status: 'passed' }
  | { readonly status: 'failed'; readonly error: unknown }
  | { readonly status: 'not run'; readonly after: string };

/**
 * One lab test (`TestBasic`, …): its subtests run in order on one cluster, as the lab's do
 * (each builds on the configurations the one before made).
 */
export interface LabSuite {
  readonly name: string;
  readonly subtests: readonly Subtest[];
  run(seed?: number, options?: { readonly quiet?: boolean }): Promise<SuiteRun>;
}

/** One run of a lab test: each subtest's outcome, and the virtual time it took. */
export interface SuiteRun {
  readonly outcomes: Map<string, SubtestOutcome>;
  readonly virtualMs: number;
}

type Step = (name: string, body: () => Promise<void>) => Promise<void>;
type SuiteBody = (cfg: CtrlerConfig, step: Step) => Promise<void>;

function suite(name: string, subtests: readonly Subtest[], body: SuiteBody): LabSuite {
  const run = async (seed?: number, options: { readonly quiet?: boolean } = {}) => {
    const outcomes = new Map<string, SubtestOutcome>();
    let current: string | undefined;
    let last = '(setup)';
    const run: LabRunOptions = { seed, quiet: options.quiet };
    let virtualMs = 0;
    try {
      ({ virtualMs } = await runCtrlerTest(name, run, NSERVERS, async (cfg) => {
        const step: Step = async (sub, stepBody) => {
          const what = subtests.find((s) => s.name === sub)?.what ?? sub;
          current = sub;
          cfg.world.begin(`Test: ${what}`);
          await stepBody();
          cfg.world.end();
          outcomes.set(sub, { status: 'passed' });
          last = sub;
          current = undefined;
        };
        await body(cfg, step);
      }));
    } catch (error) {
      if (current !== undefined) outcomes.set(current, { status: 'failed', error });
      else {
        for (const s of subtests) {
          if (!outcomes.has(s.name)) outcomes.set(s.name, { status: 'failed', error });
        }
      }
      last = current ?? last;
    }
    for (const s of subtests) {
      if (!outcomes.has(s.name)) outcomes.set(s.name, { status: 'not run', after: last });
    }
    return { outcomes, virtualMs };
  };
  return { name, subtests, run };
}

const fatal = (message: string): never => {
  throw new LabError(message);
};

/** Runs the lab's goroutines and waits for all (`world.go`: a failure fails at `end()`). */
async function all(cfg: CtrlerConfig, tasks: readonly (() => Promise<unknown>)[]): Promise<void> {
  await Promise.all(tasks.map((task) => cfg.world.go(task)));
  cfg.world.checkErrors();
}

/** The 5 groups (gids npara+1 … npara+5) the MinimalTransfer subtests add and remove. */
const extraGids = (): number[] => Array.from({ length: 5 }, (_, i) => NPARA + 1 + i);

const basic = suite(
  'TestBasic',
  [
    { name: 'LeaveJoin', what: 'Basic leave/join' },
    { name: 'HistoricalQueries', what: 'Historical queries' },
    { name: 'Move', what: 'Move' },
    { name: 'ConcurrentLeaveJoin', what: 'Concurrent leave/join' },
    { name: 'MinimalTransfer', what: 'Minimal transfers after joins' },
    { name: 'MinimalTransferAfterLeave', what: 'Minimal transfers after leaves' },
  ],
  async (cfg, step) => {
    const ck = cfg.makeClient(cfg.all());
    // cfa[3] stays the zero Config in the lab: Query(0) must equal it.
    const cfa: Config[] = [];

    await step('LeaveJoin', async () => {
      cfa[0] = await ck.query(-1);
      await check([], ck);
      await ck.join({ 1: ['x', 'y', 'z'] });
      await check([1], ck);
      cfa[1] = await ck.query(-1);
      await ck.join({ 2: ['a', 'b', 'c'] });
      await check([1, 2], ck);
      cfa[2] = await ck.query(-1);
      const cfx = await ck.query(-1);
      checkServers(cfx, 1, ['x', 'y', 'z']);
      checkServers(cfx, 2, ['a', 'b', 'c']);
      cfa[3] = { num: 0, shards: new Array<number>(NSHARDS).fill(0), groups: {} };
      await ck.leave([1]);
      await check([2], ck);
      cfa[4] = await ck.query(-1);
      await ck.leave([2]);
      cfa[5] = await ck.query(-1);
    });

    await step('HistoricalQueries', async () => {
      for (let s = 0; s < NSERVERS; s++) {
        cfg.shutdownServer(s);
        for (const c of cfa) checkSameConfig(await ck.query(c.num), c);
        await cfg.startServer(s);
        cfg.connectAll();
      }
    });

    await step('Move', async () => {
      const gid3 = 503;
      const gid4 = 504;
      await ck.join({ [gid3]: ['3a', '3b', '3c'] });
      await ck.join({ [gid4]: ['4a', '4b', '4c'] });
      for (let i = 0; i < NSHARDS; i++) {
        const cf = await ck.query(-1);
        const gid = i < NSHARDS / 2 ? gid3 : gid4;
        await ck.move(i, gid);
        if (cf.shards[i] !== gid) {
          const cf1 = await ck.query(-1);
          if (cf1.num <= cf.num) fatal('Move should increase Config.Num');
        }
      }
      const cf2 = await ck.query(-1);
      for (let i = 0; i < NSHARDS; i++) {
        const gid = i < NSHARDS / 2 ? gid3 : gid4;
        if (cf2.shards[i] !== gid) {
          fatal(`expected shard ${i} on gid ${gid} actually ${cf2.shards[i]}`);
        }
      }
      await ck.leave([gid3]);
      await ck.leave([gid4]);
    });

    const gids = Array.from({ length: NPARA }, (_, i) => i * 10 + 100);
    await step('ConcurrentLeaveJoin', async () => {
      const cka = gids.map(() => cfg.makeClient(cfg.all()));
      await all(
        cfg,
        gids.map((gid, i) => async () => {
          const c = cka[i] as Clerk;
          await c.join({ [gid + 1000]: [`s${gid}a`] });
          await c.join({ [gid]: [`s${gid}b`] });
          await c.leave([gid + 1000]);
        }),
      );
      await check(gids, ck);
    });

    let c1: Config | undefined;
    let c2: Config | undefined;
    await step('MinimalTransfer', async () => {
      c1 = await ck.query(-1);
      for (const gid of extraGids()) await ck.join({ [gid]: [`${gid}a`, `${gid}b`, `${gid}b`] });
      c2 = await ck.query(-1);
      checkNoShuffleAfterJoin(c1, c2);
      await check([...gids, ...extraGids()], ck);
    });

    await step('MinimalTransferAfterLeave', async () => {
      for (const gid of extraGids()) await ck.leave([gid]);
      const c3 = await ck.query(-1);
      checkNoShuffleAfterLeave(c1 as Config, c2 as Config, c3);
      await check(gids, ck);
    });
  },
);

const minimalAgain = suite(
  'TestMinimalAgain',
  [{ name: 'MinimalAgain', what: 'Minimal transfers, three groups' }],
  async (cfg, step) => {
    const ck = cfg.makeClient(cfg.all());
    const limit = Math.floor(NSHARDS / 3) + 1;
    const changed = (a: Config, b: Config): number[] =>
      a.shards.flatMap((g, s) => (b.shards[s] === g ? [] : [s]));
    await step('MinimalAgain', async () => {
      await ck.join({ 1: ['1a', '1b', '1c'] });
      await ck.join({ 2: ['2a', '2b', '2c'] });
      const before = await ck.query(-1);
      await ck.join({ 3: ['3a', '3b', '3c'] });
      const joined = await ck.query(-1);
      await check([1, 2, 3], ck);
      const moved = changed(before, joined);
      for (const s of moved) {
        if (joined.shards[s] !== 3) fatal(`shard ${s} moved to ${joined.shards[s]}, not to 3`);
      }
      if (moved.length > limit) fatal(`Join(3) moved ${moved.length} shards, more than ${limit}`);
      await ck.leave([1]);
      const left = await ck.query(-1);
      await check([2, 3], ck);
      const moved2 = changed(joined, left);
      for (const s of moved2) {
        if (joined.shards[s] !== 1) fatal(`shard ${s} moved off ${joined.shards[s]}, not off 1`);
      }
      if (moved2.length > limit)
        fatal(`Leave(1) moved ${moved2.length} shards, more than ${limit}`);
    });
  },
);

const multi = suite(
  'TestMulti',
  [
    { name: 'LeaveJoin', what: 'Multi-group join/leave' },
    { name: 'ConcurrentLeaveJoin', what: 'Concurrent multi leave/join' },
    { name: 'MinimalTransfer', what: 'Minimal transfers after multijoins' },
    { name: 'MinimalTransferAfterLeave', what: 'Minimal transfers after multileaves' },
    { name: 'AgreeConfig', what: 'Check Same config on servers' },
  ],
  async (cfg, step) => {
    const ck = cfg.makeClient(cfg.all());

    await step('LeaveJoin', async () => {
      await check([], ck);
      await ck.join({ 1: ['x', 'y', 'z'], 2: ['a', 'b', 'c'] });
      await check([1, 2], ck);
      await ck.join({ 3: ['j', 'k', 'l'] });
      await check([1, 2, 3], ck);
      const cfx = await ck.query(-1);
      checkServers(cfx, 1, ['x', 'y', 'z']);
      checkServers(cfx, 2, ['a', 'b', 'c']);
      checkServers(cfx, 3, ['j', 'k', 'l']);
      await ck.leave([1, 3]);
      await check([2], ck);
      checkServers(await ck.query(-1), 2, ['a', 'b', 'c']);
      await ck.leave([2]);
    });

    const gids = Array.from({ length: NPARA }, (_, i) => i + 1000);
    await step('ConcurrentLeaveJoin', async () => {
      const cka = gids.map(() => cfg.makeClient(cfg.all()));
      await all(
        cfg,
        gids.map((gid, i) => async () => {
          const c = cka[i] as Clerk;
          await c.join({
            [gid]: [`${gid}a`, `${gid}b`, `${gid}c`],
            [gid + 1000]: [`${gid + 1000}a`],
            [gid + 2000]: [`${gid + 2000}a`],
          });
          await c.leave([gid + 1000, gid + 2000]);
        }),
      );
      await check(gids, ck);
    });

    let c1: Config | undefined;
    let c2: Config | undefined;
    await step('MinimalTransfer', async () => {
      c1 = await ck.query(-1);
      await ck.join(Object.fromEntries(extraGids().map((gid) => [gid, [`${gid}a`, `${gid}b`]])));
      c2 = await ck.query(-1);
      checkNoShuffleAfterJoin(c1, c2);
      await check([...gids, ...extraGids()], ck);
    });

    await step('MinimalTransferAfterLeave', async () => {
      await ck.leave(extraGids());
      const c3 = await ck.query(-1);
      checkNoShuffleAfterLeave(c1 as Config, c2 as Config, c3);
      await check(gids, ck);
    });

    await step('AgreeConfig', async () => {
      const { found, leader } = cfg.leader();
      if (!found) fatal('Leader not found');
      const c = await ck.query(-1); // the config the leader claims
      cfg.shutdownServer(leader);
      let attempts = 0;
      while (!cfg.leader().found) {
        if (++attempts >= 3) fatal('Leader not found');
        await cfg.world.sleep(1000);
      }
      checkSameConfig(c, await ck.query(-1));
    });
  },
);

/** Every test of the lab's shardctrler suite (6.5840 Spring 2024, Lab 5A), in its order. */
export const suites: readonly LabSuite[] = [basic, minimalAgain, multi];

/**
 * The lab tests as devkit's stress runner wants them (`{ name, run(seed) }`): a run fails with
 * its first failed subtest's error.
 */
export const scenarios = suites.map((s) => ({
  name: s.name,
  async run(seed: number, options: { readonly quiet: boolean }) {
    const { outcomes, virtualMs } = await s.run(seed, options);
    for (const [name, outcome] of outcomes) {
      if (outcome.status === 'failed') {
        const err =
          outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
        err.message = `${s.name}/${name}: ${err.message}`;
        throw err;
      }
    }
    return { virtualMs };
  },
}));
