import type { Sim } from '@flotilla/transport';
import { SNAPSHOT_INTERVAL } from '../harness/appliers.js';
import { type Cluster, MAX_LOG_SIZE, withCluster } from '../harness/cluster.js';
import type { ScenarioOptions } from '../harness/run.js';

/**
 * The lab's `snapcommon`: 30 rounds on 3 servers with the snapshotting applier. The victim is
 * the follower after the leader, except every third round (i % 3 === 1) when the leader is the
 * victim and that follower sends. Optionally disconnect or crash the victim, start 5–14
 * commands on the sender, commit one more, check the persisted log stays below 2000 bytes,
 * then bring the victim back and commit with all three.
 */
function snapcommon(
  sim: Sim,
  options: ScenarioOptions,
  name: string,
  disconnect: boolean,
  reliable: boolean,
  crash: boolean,
): Promise<void> {
  const iters = 30;
  const servers = 3;
  return withCluster(
    sim,
    servers,
    { ...options, unreliable: !reliable, snapshot: true },
    async (cfg: Cluster) => {
      cfg.begin(name);

      await cfg.one(cfg.randCommand(), servers, true);
      let leader1 = await cfg.checkOneLeader();

      for (let i = 0; i < iters; i++) {
        let victim = (leader1 + 1) % servers;
        let sender = leader1;
        if (i % 3 === 1) {
          sender = (leader1 + 1) % servers;
          victim = leader1;
        }

        if (disconnect) {
          cfg.disconnect(victim);
          await cfg.one(cfg.randCommand(), servers - 1, true);
        }
        if (crash) {
          cfg.crash1(victim);
          await cfg.one(cfg.randCommand(), servers - 1, true);
        }

        // perhaps send enough to get a snapshot
        const nn = SNAPSHOT_INTERVAL / 2 + cfg.random.int(SNAPSHOT_INTERVAL);
        for (let k = 0; k < nn; k++) cfg.rafts[sender]?.start(cfg.randCommand());

        // let applier threads catch up with the Start()'s
        if (!disconnect && !crash) {
          // make sure all followers have caught up, so that an InstallSnapshot RPC isn't
          // required for SnapshotBasic3D.
          await cfg.one(cfg.randCommand(), servers, true);
        } else {
          await cfg.one(cfg.randCommand(), servers - 1, true);
        }

        if (cfg.logSize() >= MAX_LOG_SIZE) {
          cfg.fatal(`Log size too large (${cfg.logSize()} bytes, limit ${MAX_LOG_SIZE})`);
        }
        if (disconnect) {
          // reconnect a follower, who maybe behind and needs to receive a snapshot to catch up.
          cfg.connect(victim);
          await cfg.one(cfg.randCommand(), servers, true);
          leader1 = await cfg.checkOneLeader();
        }
        if (crash) {
          await cfg.start1(victim, true);
          cfg.connect(victim);
          await cfg.one(cfg.randCommand(), servers, true);
          leader1 = await cfg.checkOneLeader();
        }
      }
      cfg.end();
    },
  );
}

export function snapshotBasic3D(sim: Sim, options: ScenarioOptions): Promise<void> {
  return snapcommon(sim, options, 'Test (3D): snapshots basic', false, true, false);
}

export function snapshotInstall3D(sim: Sim, options: ScenarioOptions): Promise<void> {
  return snapcommon(sim, options, 'Test (3D): install snapshots (disconnect)', true, true, false);
}

export function snapshotInstallUnreliable3D(sim: Sim, options: ScenarioOptions): Promise<void> {
  return snapcommon(
    sim,
    options,
    'Test (3D): install snapshots (disconnect+unreliable)',
    true,
    false,
    false,
  );
}

export function snapshotInstallCrash3D(sim: Sim, options: ScenarioOptions): Promise<void> {
  return snapcommon(sim, options, 'Test (3D): install snapshots (crash)', false, true, true);
}

export function snapshotInstallUnCrash3D(sim: Sim, options: ScenarioOptions): Promise<void> {
  return snapcommon(
    sim,
    options,
    'Test (3D): install snapshots (unreliable+crash)',
    false,
    false,
    true,
  );
}

/** Five rounds of 5–14 agreements then crashing and restarting all three: indexes keep growing. */
export function snapshotAllCrash3D(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  const iters = 5;
  return withCluster(sim, servers, { ...options, snapshot: true }, async (cfg: Cluster) => {
    cfg.begin('Test (3D): crash and restart all servers');

    await cfg.one(cfg.randCommand(), servers, true);

    for (let i = 0; i < iters; i++) {
      // perhaps enough to get a snapshot
      const nn = SNAPSHOT_INTERVAL / 2 + cfg.random.int(SNAPSHOT_INTERVAL);
      for (let k = 0; k < nn; k++) await cfg.one(cfg.randCommand(), servers, true);

      const index1 = await cfg.one(cfg.randCommand(), servers, true);

      // crash all
      for (let k = 0; k < servers; k++) cfg.crash1(k);

      // revive all
      for (let k = 0; k < servers; k++) {
        await cfg.start1(k, true);
        cfg.connect(k);
      }

      const index2 = await cfg.one(cfg.randCommand(), servers, true);
      if (index2 < index1 + 1) cfg.fatal(`index decreased from ${index1} to ${index2}`);
    }
    cfg.end();
  });
}

/** A restarted server starts from its snapshot (twice), and its applier resumes after it. */
export function snapshotInit3D(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options, snapshot: true }, async (cfg: Cluster) => {
    cfg.begin('Test (3D): snapshot initialization after crash');
    await cfg.one(cfg.randCommand(), servers, true);

    // enough ops to make a snapshot
    const nn = SNAPSHOT_INTERVAL + 1;
    for (let i = 0; i < nn; i++) await cfg.one(cfg.randCommand(), servers, true);

    // crash all
    for (let i = 0; i < servers; i++) cfg.crash1(i);

    // revive all
    for (let i = 0; i < servers; i++) {
      await cfg.start1(i, true);
      cfg.connect(i);
    }

    // a single op, to get something to be written back to persistent storage.
    await cfg.one(cfg.randCommand(), servers, true);

    // crash all
    for (let i = 0; i < servers; i++) cfg.crash1(i);

    // revive all
    for (let i = 0; i < servers; i++) {
      await cfg.start1(i, true);
      cfg.connect(i);
    }

    // do another op to trigger potential bug
    await cfg.one(cfg.randCommand(), servers, true);
    cfg.end();
  });
}
