import { checkGet, type KvClerk } from '@flotilla/labkit';
import { type LabRunOptions, runShardKvTest, type ShardKvConfig } from './config.js';

/** Keys "0".."n-1" put with random values of `size` characters; the values as the test tracks them. */
export async function putKeys(
  cfg: ShardKvConfig,
  ck: KvClerk,
  n: number,
  size: number,
): Promise<{ ka: string[]; va: string[] }> {
  const ka: string[] = [];
  const va: string[] = [];
  for (let i = 0; i < n; i++) {
    ka.push(String(i));
    va.push(cfg.world.random.string(size));
    await ck.put(ka[i] as string, va[i] as string);
  }
  return { ka, va };
}

export async function checkAll(ck: KvClerk, ka: readonly string[], va: readonly string[]) {
  for (let i = 0; i < ka.length; i++) await checkGet(ck, ka[i] as string, va[i] as string);
}

/** For each key: check its value, then Append `size` random characters to it. */
export async function checkAndAppend(
  cfg: ShardKvConfig,
  ck: KvClerk,
  ka: readonly string[],
  va: string[],
  size: number,
): Promise<void> {
  for (let i = 0; i < ka.length; i++) {
    await checkGet(ck, ka[i] as string, va[i] as string);
    const x = cfg.world.random.string(size);
    await ck.append(ka[i] as string, x);
    va[i] += x;
  }
}

/** TestJoinLeave5B: shards really move: group 0 leaves, is shut down, and every key is still there. */
export function joinLeave(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: false, maxraftstate: -1 }, async (cfg) => {
    cfg.world.begin('Test (5B): join then leave');
    const ck = cfg.makeClient();
    await cfg.join(0);
    const { ka, va } = await putKeys(cfg, ck, 10, 5);
    await checkAll(ck, ka, va);
    await cfg.join(1);
    await checkAndAppend(cfg, ck, ka, va, 5);
    await cfg.leave(0);
    await checkAndAppend(cfg, ck, ka, va, 5);
    // Allow time for shards to transfer.
    await cfg.world.sleep(1000);
    cfg.checkLogs();
    cfg.shutdownGroup(0);
    await checkAll(ck, ka, va);
    cfg.world.end();
  });
}

/** TestSnapshot5B: snapshots, join, and leave; every group restarted from its snapshots. */
export function snapshot(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: false, maxraftstate: 1000 }, async (cfg) => {
    cfg.world.begin('Test (5B): snapshots, join, and leave');
    const ck = cfg.makeClient();
    await cfg.join(0);
    const { ka, va } = await putKeys(cfg, ck, 30, 20);
    await checkAll(ck, ka, va);
    await cfg.join(1);
    await cfg.join(2);
    await cfg.leave(0);
    await checkAndAppend(cfg, ck, ka, va, 20);
    await cfg.leave(1);
    await cfg.join(0);
    await checkAndAppend(cfg, ck, ka, va, 20);
    await cfg.world.sleep(1000);
    await checkAll(ck, ka, va);
    await cfg.world.sleep(1000);
    cfg.checkLogs();
    cfg.shutdownGroup(0);
    cfg.shutdownGroup(1);
    cfg.shutdownGroup(2);
    await cfg.startGroup(0);
    await cfg.startGroup(1);
    await cfg.startGroup(2);
    await checkAll(ck, ka, va);
    cfg.world.end();
  });
}

/** TestMissChange5B: servers miss configuration changes while down and catch up through them. */
export function missChange(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: false, maxraftstate: 1000 }, async (cfg) => {
    cfg.world.begin('Test (5B): servers miss configuration changes');
    const ck = cfg.makeClient();
    await cfg.join(0);
    const { ka, va } = await putKeys(cfg, ck, 10, 20);
    await checkAll(ck, ka, va);
    await cfg.join(1);
    for (let gi = 0; gi < 3; gi++) cfg.shutdownServer(gi, 0);
    await cfg.join(2);
    await cfg.leave(1);
    await cfg.leave(0);
    await checkAndAppend(cfg, ck, ka, va, 20);
    await cfg.join(1);
    await checkAndAppend(cfg, ck, ka, va, 20);
    for (let gi = 0; gi < 3; gi++) await cfg.startServer(gi, 0);
    await checkAndAppend(cfg, ck, ka, va, 20);
    await cfg.world.sleep(2000);
    for (let gi = 0; gi < 3; gi++) cfg.shutdownServer(gi, 1);
    await cfg.join(0);
    await cfg.leave(2);
    await checkAndAppend(cfg, ck, ka, va, 20);
    for (let gi = 0; gi < 3; gi++) await cfg.startServer(gi, 1);
    await checkAll(ck, ka, va);
    cfg.world.end();
  });
}
