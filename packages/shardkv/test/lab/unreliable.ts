import { checkGet } from '@flotilla/labkit';
import { startAppenders } from './appenders.js';
import { type LabRunOptions, runShardKvTest, type ShardKvConfig } from './config.js';
import { checkAll, putKeys } from './movement.js';

/** Unreliable2/3's reconfigurations while the clients run, then 2 s, then a reliable network. */
async function reconfigureUnderLoad(cfg: ShardKvConfig): Promise<void> {
  const { world } = cfg;
  await world.sleep(150);
  await cfg.join(1);
  await world.sleep(500);
  await cfg.join(2);
  await world.sleep(500);
  await cfg.leave(0);
  await world.sleep(500);
  await cfg.leave(1);
  await world.sleep(500);
  await cfg.join(1);
  await cfg.join(0);
  await world.sleep(2000);
}

/** TestUnreliable1_5B: unreliable network, one clerk reading and appending while shards move. */
export function unreliable1(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: true, maxraftstate: 100 }, async (cfg) => {
    cfg.world.begin('Test (5B): unreliable 1');
    const n = 10;
    const ck = cfg.makeClient();
    await cfg.join(0);
    const { ka, va } = await putKeys(cfg, ck, n, 5);
    await cfg.join(1);
    await cfg.join(2);
    await cfg.leave(0);
    for (let ii = 0; ii < n * 2; ii++) {
      const i = ii % n;
      await checkGet(ck, ka[i] as string, va[i] as string);
      const x = cfg.world.random.string(5);
      await ck.append(ka[i] as string, x);
      va[i] += x;
    }
    await cfg.join(0);
    await cfg.leave(1);
    for (let ii = 0; ii < n * 2; ii++) {
      const i = ii % n;
      await checkGet(ck, ka[i] as string, va[i] as string);
    }
    cfg.world.end();
  });
}

/** TestUnreliable2_5B: unreliable network, 10 clients appending while shards move. */
export function unreliable2(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: true, maxraftstate: 100 }, async (cfg) => {
    cfg.world.begin('Test (5B): unreliable 2');
    const ck = cfg.makeClient();
    await cfg.join(0);
    const { ka, va } = await putKeys(cfg, ck, 10, 5);
    const clients = startAppenders(cfg, ka, va, { size: 5, pauseMs: 0 });
    await reconfigureUnderLoad(cfg);
    cfg.world.setReliable(true);
    await clients.stop();
    await checkAll(ck, ka, va);
    cfg.world.end();
  });
}

/**
 * TestUnreliable3_5B: unreliable network, 10 clients doing random Gets (≈45%), Appends (50%) and
 * Puts (≈5%) on random keys while shards move; the history must be linearizable.
 */
export function unreliable3(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: true, maxraftstate: 100 }, async (cfg) => {
    cfg.world.begin('Test (5B): unreliable 3');
    const { world } = cfg;
    const n = 10;
    const ck = cfg.makeClient();
    await cfg.join(0);
    const { ka } = await putKeys(cfg, ck, n, 5);
    let done = false;
    const pacer = world.pacer();
    const clients = Array.from({ length: n }, () =>
      world.go(async () => {
        const ck1 = cfg.makeClient();
        while (!done) {
          const key = ka[world.random.int(n)] as string;
          const nv = world.random.string(5);
          await pacer.turn(async () => {
            if (world.random.int(1000) < 500) await ck1.append(key, nv);
            else if (world.random.int(1000) < 100) await ck1.put(key, nv);
            else await ck1.get(key);
          });
        }
      }),
    );
    await reconfigureUnderLoad(cfg);
    done = true;
    world.setReliable(true);
    await Promise.all(clients);
    // runShardKvTest checks the recorded history (the lab's porcupine check) after the body.
    world.end();
  });
}
