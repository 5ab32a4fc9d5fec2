import { startAppenders } from './appenders.js';
import { type LabRunOptions, runShardKvTest } from './config.js';
import { checkAll, putKeys } from './movement.js';

/** TestConcurrent1_5B: concurrent puts and configuration changes, groups shut down and restarted. */
export function concurrent1(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: false, maxraftstate: 100 }, async (cfg) => {
    cfg.world.begin('Test (5B): concurrent puts and configuration changes');
    const { world } = cfg;
    const ck = cfg.makeClient();
    await cfg.join(0);
    const { ka, va } = await putKeys(cfg, ck, 10, 5);
    const clients = startAppenders(cfg, ka, va, { size: 5, pauseMs: 10 });
    await world.sleep(150);
    await cfg.join(1);
    await world.sleep(500);
    await cfg.join(2);
    await world.sleep(500);
    await cfg.leave(0);
    cfg.shutdownGroup(0);
    await world.sleep(100);
    cfg.shutdownGroup(1);
    await world.sleep(100);
    cfg.shutdownGroup(2);
    await cfg.leave(2);
    await world.sleep(100);
    await cfg.startGroup(0);
    await cfg.startGroup(1);
    await cfg.startGroup(2);
    await world.sleep(100);
    await cfg.join(0);
    await cfg.leave(1);
    await world.sleep(500);
    await cfg.join(1);
    await world.sleep(1000);
    await clients.stop();
    await checkAll(ck, ka, va);
    world.end();
  });
}

/** TestConcurrent2_5B: more concurrent puts and configuration changes. */
export function concurrent2(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: false, maxraftstate: -1 }, async (cfg) => {
    cfg.world.begin('Test (5B): more concurrent puts and configuration changes');
    const { world } = cfg;
    const ck = cfg.makeClient();
    await cfg.join(1);
    await cfg.join(0);
    await cfg.join(2);
    const { ka, va } = await putKeys(cfg, ck, 10, 1);
    const clients = startAppenders(cfg, ka, va, { size: 1, pauseMs: 50 });
    await cfg.leave(0);
    await cfg.leave(2);
    await world.sleep(3000);
    await cfg.join(0);
    await cfg.join(2);
    await cfg.leave(1);
    await world.sleep(3000);
    await cfg.join(1);
    await cfg.leave(0);
    await cfg.leave(2);
    await world.sleep(3000);
    cfg.shutdownGroup(1);
    cfg.shutdownGroup(2);
    await world.sleep(1000);
    await cfg.startGroup(1);
    await cfg.startGroup(2);
    await world.sleep(2000);
    await clients.stop();
    await checkAll(ck, ka, va);
    world.end();
  });
}

/** How long Concurrent3's reconfiguration loop runs (the lab's 12 s). */
const CONCURRENT3_RUN_MS = 12_000;

/** TestConcurrent3_5B: concurrent configuration change and restart, for 12 s. */
export function concurrent3(name: string, run: LabRunOptions) {
  return runShardKvTest(name, run, { n: 3, unreliable: false, maxraftstate: 300 }, async (cfg) => {
    cfg.world.begin('Test (5B): concurrent configuration change and restart');
    const { world } = cfg;
    const ck = cfg.makeClient();
    await cfg.join(0);
    const { ka, va } = await putKeys(cfg, ck, 10, 1);
    const clients = startAppenders(cfg, ka, va, { size: 1, pauseMs: 0 });
    const t0 = world.clock.now();
    while (world.clock.now() - t0 < CONCURRENT3_RUN_MS) {
      await cfg.join(2);
      await cfg.join(1);
      await world.sleep(world.random.int(900));
      for (let gi = 0; gi < 3; gi++) cfg.shutdownGroup(gi);
      for (let gi = 0; gi < 3; gi++) await cfg.startGroup(gi);
      await world.sleep(world.random.int(900));
      await cfg.leave(1);
      await cfg.leave(2);
      await world.sleep(world.random.int(900));
    }
    await world.sleep(2000);
    await clients.stop();
    await checkAll(ck, ka, va);
    world.end();
  });
}
