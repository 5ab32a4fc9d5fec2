import { checkGet, LabError } from '@flotilla/labkit';
import { key2shard } from '../../src/index.js';
import { type LabRunOptions, runShardKvTest } from './config.js';
import { putKeys } from './movement.js';

/** TestChallenge1Delete: groups delete the shards they no longer own (1,000-byte values). */
export function challenge1Delete(name: string, run: LabRunOptions) {
  // maxraftstate 1: snapshot after every batch of applied entries.
  return runShardKvTest(name, run, { n: 3, unreliable: false, maxraftstate: 1 }, async (cfg) => {
    cfg.world.begin('Test: shard deletion (challenge 1)');
    const { world } = cfg;
    const ck = cfg.makeClient();
    await cfg.join(0);
    // 30,000 bytes of total values.
    const n = 30;
    const { ka, va } = await putKeys(cfg, ck, n, 1000);
    const checkFirst3 = async () => {
      for (let i = 0; i < 3; i++) await checkGet(ck, ka[i] as string, va[i] as string);
    };
    await checkFirst3();
    for (let iters = 0; iters < 2; iters++) {
      await cfg.join(1);
      await cfg.leave(0);
      await cfg.join(2);
      await world.sleep(3000);
      await checkFirst3();
      await cfg.leave(1);
      await cfg.join(0);
      await cfg.leave(2);
      await world.sleep(3000);
      await checkFirst3();
    }
    await cfg.join(1);
    await cfg.join(2);
    for (let round = 0; round < 3; round++) {
      await world.sleep(1000);
      await checkFirst3();
    }
    const total = cfg.totalStorage();
    // 27 keys should be stored once, 3 keys also in client dup tables, everything on 3
    // replicas, plus slop.
    const expected = 3 * ((n - 3) * 1000 + 2 * 3 * 1000 + 6000);
    world.log(`  storage over all 9 servers: ${total} bytes (limit ${expected})`);
    if (total > expected) {
      throw new LabError(`snapshot + persisted Raft state are too big: ${total} > ${expected}`);
    }
    for (let i = 0; i < n; i++) await checkGet(ck, ka[i] as string, va[i] as string);
    world.end();
  });
}

/** The shards `gid` owns in the controller's latest configuration. */
async function ownedBy(cfg: Parameters<Parameters<typeof runShardKvTest>[3]>[0], gid: number) {
  const c = await cfg.mck.query(-1);
  return c.shards.map((owner) => owner === gid);
}

/**
 * TestChallenge2Unaffected: a group keeps serving the shards it already had while it can never
 * pull the ones a dead group held.
 */
export function challenge2Unaffected(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: true, maxraftstate: 100 }, async (cfg) => {
    cfg.world.begin('Test: unaffected shard access (challenge 2)');
    const { world } = cfg;
    const ck = cfg.makeClient();
    await cfg.join(0); // JOIN 100
    const n = 10;
    const ka = Array.from({ length: n }, (_, i) => String(i));
    const va = ka.map(() => '100');
    for (let i = 0; i < n; i++) await ck.put(ka[i] as string, va[i] as string);
    await cfg.join(1); // JOIN 101
    const owned = await ownedBy(cfg, cfg.gid(1));
    // Wait for migration to the new config and for clients to use it.
    await world.sleep(1000);
    for (let i = 0; i < n; i++) {
      if (owned[i] === true) {
        va[i] = '101';
        await ck.put(ka[i] as string, va[i] as string);
      }
    }
    cfg.shutdownGroup(0); // KILL 100
    await cfg.leave(0); // 101 never gets to migrate what 100 owned
    await world.sleep(1000);
    for (let i = 0; i < n; i++) {
      if (owned[key2shard(ka[i] as string)] === true) {
        await checkGet(ck, ka[i] as string, va[i] as string);
        await ck.put(ka[i] as string, `${va[i]}-1`);
        await checkGet(ck, ka[i] as string, `${va[i]}-1`);
      }
    }
    world.end();
  });
}

/**
 * TestChallenge2Partial: a group serves the shards it has received while others, from a dead
 * group, are still pending.
 */
export function challenge2Partial(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: true, maxraftstate: 100 }, async (cfg) => {
    cfg.world.begin('Test: partial migration shard access (challenge 2)');
    const { world } = cfg;
    const ck = cfg.makeClient();
    await cfg.joinm([0, 1, 2]); // JOIN 100 + 101 + 102
    await world.sleep(1000);
    const n = 10;
    const ka = Array.from({ length: n }, (_, i) => String(i));
    const va = ka.map(() => '100');
    for (let i = 0; i < n; i++) await ck.put(ka[i] as string, va[i] as string);
    const owned = await ownedBy(cfg, cfg.gid(2));
    cfg.shutdownGroup(0); // KILL 100
    // 101 can get old shards from 102, but not from 100; it should serve the ones from 102
    // as soon as it has them.
    await cfg.leavem([0, 2]);
    await world.sleep(1000);
    for (let i = 0; i < n; i++) {
      if (owned[key2shard(ka[i] as string)] === true) {
        await checkGet(ck, ka[i] as string, va[i] as string);
        await ck.put(ka[i] as string, `${va[i]}-2`);
        await checkGet(ck, ka[i] as string, `${va[i]}-2`);
      }
    }
    world.end();
  });
}
