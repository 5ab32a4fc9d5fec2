import { checkGet, type KvClerk, LabError } from '@flotilla/labkit';
import { type LabRunOptions, runShardKvTest, type ShardKvConfig } from './config.js';

const N = 10;
/** How long a Get may take before the lab counts it as not completing (the select's time.After). */
const COMPLETION_WAIT_MS = 2000;

/** Puts keys "0".."9" with 20-byte values and reads them back. */
async function putTen(cfg: ShardKvConfig, ck: KvClerk): Promise<{ ka: string[]; va: string[] }> {
  const ka: string[] = [];
  const va: string[] = [];
  for (let i = 0; i < N; i++) {
    ka.push(String(i)); // ensure multiple shards
    va.push(cfg.world.random.string(20));
    await ck.put(ka[i] as string, va[i] as string);
  }
  for (let i = 0; i < N; i++) await checkGet(ck, ka[i] as string, va[i] as string);
  return { ka, va };
}

/**
 * One fresh clerk per key (only one call per clerk), each Getting its key at once; counts the
 * Gets that complete, with the right value, until 2 s pass without another completing.
 */
async function countCompletions(
  cfg: ShardKvConfig,
  makeClerk: () => KvClerk,
  ka: readonly string[],
  va: readonly string[],
): Promise<number> {
  const finished: string[] = [];
  let wake: (() => void) | undefined;
  for (let i = 0; i < N; i++) {
    const ck1 = makeClerk();
    void cfg.world.go(async () => {
      const v = await ck1.get(ka[i] as string);
      finished.push(v === va[i] ? '' : `Get(${ka[i]}): expected:\n${va[i]}\nreceived:\n${v}`);
      wake?.();
    });
  }
  let seen = 0;
  for (;;) {
    if (finished.length === seen) {
      const timedOut = await new Promise<boolean>((resolve) => {
        const timer = cfg.world.clock.setTimeout(() => resolve(true), COMPLETION_WAIT_MS);
        wake = () => {
          cfg.world.clock.clearTimeout(timer);
          resolve(false);
        };
      });
      wake = undefined;
      if (timedOut) return seen;
    }
    for (; seen < finished.length; seen++) {
      if (finished[seen] !== '') throw new LabError(finished[seen] as string);
    }
  }
}

/** TestStaticShards5A: static 2-way sharding, without shard movement. */
export function staticShards(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: false, maxraftstate: -1 }, async (cfg) => {
    cfg.world.begin('Test (5A): static shards');
    const ck = cfg.makeClient();
    await cfg.join(0);
    await cfg.join(1);
    const { ka, va } = await putTen(cfg, ck);
    // Make sure the data really is sharded by shutting down one group and checking that
    // some Gets don't succeed.
    cfg.shutdownGroup(1);
    cfg.checkLogs(); // forbid snapshots
    const ndone = await countCompletions(cfg, () => cfg.makeClient(), ka, va);
    if (ndone !== 5) {
      throw new LabError(`expected 5 completions with one shard dead; got ${ndone}`);
    }
    // Bring the crashed group back to life.
    await cfg.startGroup(1);
    for (let i = 0; i < N; i++) await checkGet(ck, ka[i] as string, va[i] as string);
    cfg.world.end();
  });
}

/**
 * TestRejection5A: do servers reject operations on shards for which they are not responsible?
 * A second, separate controller thinks group 0 has every shard; clerks that use it send every
 * key to group 0, which must serve only its own five.
 */
export function rejection(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: false, maxraftstate: -1 }, async (cfg) => {
    cfg.world.begin('Test (5A): rejection');
    const ck = cfg.makeClient();
    await cfg.join(0);
    await cfg.join(1);
    const { ka, va } = await putTen(cfg, ck);
    const second = await cfg.startSecondCtrler();
    await cfg.joinm([0], second.mck);
    const ndone = await countCompletions(cfg, () => cfg.makeClient(second.cluster), ka, va);
    if (ndone !== 5) {
      throw new LabError(`expected 5 completions with a controller that lies; got ${ndone}`);
    }
    cfg.world.end();
  });
}
