import {
  appendElement,
  checkConcurrentAppends,
  checkGet,
  ELECTION_TIMEOUT_MS,
  MAX_RAFT_STATE_FACTOR,
  spawnClientsAndWait,
} from '@flotilla/labkit';
import type { SimulationReport } from '@flotilla/transport';
import { type LabRunOptions, runKvTest } from './config.js';

/** TestUnreliableOneKey4A: 5 clients × 10 sequential Appends to one key, 3 unreliable servers. */
export function unreliableOneKey(
  name: string,
  run: LabRunOptions = {},
): Promise<SimulationReport<void>> {
  return runKvTest(name, run, { n: 3, unreliable: true, maxraftstate: -1 }, async (cfg) => {
    const { world } = cfg;
    const ck = world.counted(cfg.makeClient());
    world.begin('Test: concurrent append to same key, unreliable (4A)');
    await ck.put('k', '');
    const nclient = 5;
    const upto = 10;
    await spawnClientsAndWait(cfg.clientPool(), nclient, async (me, clerk) => {
      const counted = world.counted(clerk);
      for (let n = 0; n < upto; n++) await counted.append('k', appendElement(me, n));
    });
    const counts = Array.from({ length: nclient }, () => upto);
    const vx = await ck.get('k');
    checkConcurrentAppends(vx, counts);
    world.end();
  });
}

/**
 * TestOnePartition4A: a majority without the leader makes progress; the minority (with the old
 * leader) completes nothing for 1 s; after healing, its pending Put completes within 3 s.
 */
export function onePartition(
  name: string,
  run: LabRunOptions = {},
): Promise<SimulationReport<void>> {
  return runKvTest(name, run, { n: 5, unreliable: false, maxraftstate: -1 }, async (cfg) => {
    const { world } = cfg;
    const ck = world.counted(cfg.makeClient());
    await ck.put('1', '13');

    world.begin('Test: progress in majority (4A)');
    const [p1, p2] = cfg.makePartition();
    cfg.partition(p1, p2);
    const ckp1 = world.counted(cfg.makeClient(p1)); // connect ckp1 to p1
    const ckp2aRaw = cfg.makeClient(p2); // connect ckp2a to p2
    const ckp2bRaw = cfg.makeClient(p2); // connect ckp2b to p2
    const ckp2a = world.counted(ckp2aRaw);
    const ckp2b = world.counted(ckp2bRaw);
    await ckp1.put('1', '14');
    await checkGet(ckp1, '1', '14');
    world.end();

    world.begin('Test: no progress in minority (4A)');
    let done0 = false;
    let done1 = false;
    void world.go(async () => {
      await ckp2a.put('1', '15');
      done0 = true;
    });
    void world.go(async () => {
      await ckp2b.get('1'); // different clerk in p2
      done1 = true;
    });
    await world.sleep(1000);
    if (done0) world.fatal('Put in minority completed');
    if (done1) world.fatal('Get in minority completed');
    await checkGet(ckp1, '1', '14');
    await ckp1.put('1', '16');
    await checkGet(ckp1, '1', '16');
    world.end();

    world.begin('Test: completion after heal (4A)');
    cfg.connectAll();
    cfg.connectClient(ckp2aRaw, cfg.all());
    cfg.connectClient(ckp2bRaw, cfg.all());
    await world.sleep(ELECTION_TIMEOUT_MS);
    for (let waited = 0; !done0; waited++) {
      if (waited === 30) world.fatal('Put did not complete');
      await world.sleep(100);
    }
    // The Get (done1) is only polled in the lab, never waited for.
    await checkGet(ck, '1', '15');
    world.end();
  });
}

/**
 * TestSnapshotRPC4B: a majority trims its log while server 2 is cut off; then server 2 must
 * be caught up by InstallSnapshot to form a majority with server 0.
 */
export function snapshotRpc(
  name: string,
  run: LabRunOptions = {},
): Promise<SimulationReport<void>> {
  const maxraftstate = 1000;
  return runKvTest(name, run, { n: 3, unreliable: false, maxraftstate }, async (cfg) => {
    const { world } = cfg;
    const ck = world.counted(cfg.makeClient());
    world.begin('Test: InstallSnapshot RPC (4B)');
    await ck.put('a', 'A');
    await checkGet(ck, 'a', 'A');

    // A bunch of puts into the majority partition.
    cfg.partition([0, 1], [2]);
    {
      const ck1 = world.counted(cfg.makeClient([0, 1]));
      for (let i = 0; i < 50; i++) await ck1.put(String(i), String(i));
      await world.sleep(ELECTION_TIMEOUT_MS);
      await ck1.put('b', 'B');
    }
    // The majority has thrown away most of its log entries.
    const sz = cfg.logSize();
    if (sz > MAX_RAFT_STATE_FACTOR * maxraftstate) {
      world.fatal(`logs were not trimmed (${sz} > 8*${maxraftstate})`);
    }

    // Now a group that needs the lagging server, so it has to catch up.
    cfg.partition([0, 2], [1]);
    {
      const ck1 = world.counted(cfg.makeClient([0, 2]));
      await ck1.put('c', 'C');
      await ck1.put('d', 'D');
      await checkGet(ck1, 'a', 'A');
      await checkGet(ck1, 'b', 'B');
      await checkGet(ck1, '1', '1');
      await checkGet(ck1, '49', '49');
    }
    // Not the lab's check: server 2 got there by a snapshot, not by the trimmed log.
    if ((cfg.persister(2)?.snapshotSize() ?? 0) === 0) {
      world.fatal('server 2 caught up without installing a snapshot');
    }

    // Now everybody.
    cfg.partition([0, 1, 2], []);
    await ck.put('e', 'E');
    await checkGet(ck, 'c', 'C');
    await checkGet(ck, 'e', 'E');
    await checkGet(ck, '1', '1');
    world.end();
  });
}

/** TestSnapshotSize4B: 800 ops on one key keep Raft state ≤ 8,000 and the snapshot ≤ 500 bytes. */
export function snapshotSize(
  name: string,
  run: LabRunOptions = {},
): Promise<SimulationReport<void>> {
  const maxraftstate = 1000;
  const maxsnapshotstate = 500;
  return runKvTest(name, run, { n: 3, unreliable: false, maxraftstate }, async (cfg) => {
    const { world } = cfg;
    const ck = world.counted(cfg.makeClient());
    world.begin('Test: snapshot size is reasonable (4B)');
    for (let i = 0; i < 200; i++) {
      await ck.put('x', '0');
      await checkGet(ck, 'x', '0');
      await ck.put('x', '1');
      await checkGet(ck, 'x', '1');
    }
    // Check that servers have thrown away most of their log entries.
    const sz = cfg.logSize();
    if (sz > MAX_RAFT_STATE_FACTOR * maxraftstate) {
      world.fatal(`logs were not trimmed (${sz} > 8*${maxraftstate})`);
    }
    // Check that the snapshots are not unreasonably large.
    const ssz = cfg.snapshotSize();
    if (ssz > maxsnapshotstate) {
      world.fatal(`snapshot too large (${ssz} > ${maxsnapshotstate})`);
    }
    world.log(`  LogSize ${sz} bytes, SnapshotSize ${ssz} bytes`);
    world.end();
  });
}
