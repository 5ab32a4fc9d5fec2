import type { Sim } from '@flotilla/transport';
import { type Cluster, RAFT_ELECTION_TIMEOUT, withCluster } from '../harness/cluster.js';
import type { ScenarioOptions } from '../harness/run.js';

/** Crash and restart all, the leader, a follower: agreement continues each time. */
export function persist13C(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3C): basic persistence');

    await cfg.one(11, servers, true);

    // crash and re-start all
    for (let i = 0; i < servers; i++) await cfg.start1(i);
    for (let i = 0; i < servers; i++) {
      cfg.disconnect(i);
      cfg.connect(i);
    }

    await cfg.one(12, servers, true);

    const leader1 = await cfg.checkOneLeader();
    cfg.disconnect(leader1);
    await cfg.start1(leader1);
    cfg.connect(leader1);

    await cfg.one(13, servers, true);

    const leader2 = await cfg.checkOneLeader();
    cfg.disconnect(leader2);
    await cfg.one(14, servers - 1, true);
    await cfg.start1(leader2);
    cfg.connect(leader2);

    await cfg.wait(4, servers, -1); // wait for leader2 to join before killing i3

    const i3 = ((await cfg.checkOneLeader()) + 1) % servers;
    cfg.disconnect(i3);
    await cfg.one(15, servers - 1, true);
    await cfg.start1(i3);
    cfg.connect(i3);

    await cfg.one(16, servers, true);

    cfg.end();
  });
}

/** Five rounds of partitions and restarts from disk with five servers. */
export function persist23C(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 5;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3C): more persistence');

    let index = 1;
    for (let iters = 0; iters < 5; iters++) {
      await cfg.one(10 + index, servers, true);
      index++;

      const leader1 = await cfg.checkOneLeader();

      cfg.disconnect((leader1 + 1) % servers);
      cfg.disconnect((leader1 + 2) % servers);

      await cfg.one(10 + index, servers - 2, true);
      index++;

      cfg.disconnect((leader1 + 0) % servers);
      cfg.disconnect((leader1 + 3) % servers);
      cfg.disconnect((leader1 + 4) % servers);

      await cfg.start1((leader1 + 1) % servers);
      await cfg.start1((leader1 + 2) % servers);
      cfg.connect((leader1 + 1) % servers);
      cfg.connect((leader1 + 2) % servers);

      await cfg.sleep(RAFT_ELECTION_TIMEOUT);

      await cfg.start1((leader1 + 3) % servers);
      cfg.connect((leader1 + 3) % servers);

      await cfg.one(10 + index, servers - 2, true);
      index++;

      cfg.connect((leader1 + 4) % servers);
      cfg.connect((leader1 + 0) % servers);
    }

    await cfg.one(1000, servers, true);

    cfg.end();
  });
}

/** A partitioned follower, then the leader and the other follower crash; the leader restarts. */
export function persist33C(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3C): partitioned leader and one follower crash, leader restarts');

    await cfg.one(101, 3, true);

    const leader = await cfg.checkOneLeader();
    cfg.disconnect((leader + 2) % servers);

    await cfg.one(102, 2, true);

    cfg.crash1((leader + 0) % servers);
    cfg.crash1((leader + 1) % servers);
    cfg.connect((leader + 2) % servers);
    await cfg.start1((leader + 0) % servers);
    cfg.connect((leader + 0) % servers);

    await cfg.one(103, 2, true);

    await cfg.start1((leader + 1) % servers);
    cfg.connect((leader + 1) % servers);

    await cfg.one(104, servers, true);

    cfg.end();
  });
}

/**
 * The sleep of a Figure 8 round: with probability 10% up to half an election timeout
 * (0–499 ms), else 0–12 ms.
 */
function figure8Sleep(random: { int(n: number): number }): number {
  if (random.int(1000) < 100) return random.int(RAFT_ELECTION_TIMEOUT / 2);
  return random.int(13);
}

/** 1000 rounds of starting on every live server and crashing the one that accepted. */
export function figure83C(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 5;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3C): Figure 8');

    await cfg.one(cfg.randCommand(), 1, true);

    let nup = servers;
    for (let iters = 0; iters < 1000; iters++) {
      let leader = -1;
      for (let i = 0; i < servers; i++) {
        const node = cfg.rafts[i];
        if (node?.start(cfg.randCommand()).isLeader) leader = i;
      }

      await cfg.sleep(figure8Sleep(cfg.random));

      if (leader !== -1) {
        cfg.crash1(leader);
        nup -= 1;
      }

      if (nup < 3) {
        const s = cfg.random.int(servers);
        if (cfg.rafts[s] === undefined) {
          await cfg.start1(s);
          cfg.connect(s);
          nup += 1;
        }
      }
    }

    for (let i = 0; i < servers; i++) {
      if (cfg.rafts[i] === undefined) {
        await cfg.start1(i);
        cfg.connect(i);
      }
    }

    await cfg.one(cfg.randCommand(), servers, true);

    cfg.end();
  });
}

/** 49 rounds of 4 concurrent + 1 agreements on the unreliable network, then all 5 agree. */
export function unreliableAgree3C(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 5;
  return withCluster(sim, servers, { ...options, unreliable: true }, async (cfg: Cluster) => {
    cfg.begin('Test (3C): unreliable agreement');

    const group: Promise<unknown>[] = [];
    for (let iters = 1; iters < 50; iters++) {
      for (let j = 0; j < 4; j++) group.push(cfg.go(() => cfg.one(100 * iters + j, 1, true)));
      await cfg.one(iters, 1, true);
    }

    cfg.setUnreliable(false);

    await Promise.all(group);
    cfg.checkErrors();

    await cfg.one(100, servers, true);

    cfg.end();
  });
}

/**
 * Figure 8 on the unreliable network: the accepting leader is disconnected (not crashed) half
 * the time; long reordering from round 200.
 */
export function figure8Unreliable3C(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 5;
  return withCluster(sim, servers, { ...options, unreliable: true }, async (cfg: Cluster) => {
    cfg.begin('Test (3C): Figure 8 (unreliable)');

    await cfg.one(cfg.random.int(10_000), 1, true);

    let nup = servers;
    for (let iters = 0; iters < 1000; iters++) {
      if (iters === 200) cfg.setLongReordering(true);
      let leader = -1;
      for (let i = 0; i < servers; i++) {
        const started = cfg.rafts[i]?.start(cfg.random.int(10_000));
        if (started?.isLeader && cfg.connected[i]) leader = i;
      }

      await cfg.sleep(figure8Sleep(cfg.random));

      if (leader !== -1 && cfg.random.int(1000) < RAFT_ELECTION_TIMEOUT / 2) {
        cfg.disconnect(leader);
        nup -= 1;
      }

      if (nup < 3) {
        const s = cfg.random.int(servers);
        if (!cfg.connected[s]) {
          cfg.connect(s);
          nup += 1;
        }
      }
    }

    for (let i = 0; i < servers; i++) {
      if (!cfg.connected[i]) cfg.connect(i);
    }

    await cfg.one(cfg.random.int(10_000), servers, true);

    cfg.end();
  });
}

/**
 * Three clients keep starting commands while servers are disconnected, restarted and crashed at
 * random; every value a client saw committed must be in the final log all five applied.
 */
function churn(sim: Sim, options: ScenarioOptions, unreliable: boolean): Promise<void> {
  const servers = 5;
  return withCluster(sim, servers, { ...options, unreliable }, async (cfg: Cluster) => {
    cfg.begin(unreliable ? 'Test (3C): unreliable churn' : 'Test (3C): churn');

    let stop = false;

    // create concurrent clients
    const client = async (me: number): Promise<number[]> => {
      const values: number[] = [];
      while (!stop) {
        const x = cfg.randCommand();
        let index = -1;
        let ok = false;
        for (let i = 0; i < servers; i++) {
          // try them all, maybe one of them is a leader
          const started = cfg.rafts[i]?.start(x);
          if (started?.isLeader) {
            ok = true;
            index = started.index;
          }
        }
        if (ok) {
          // maybe leader will commit our value, maybe not. but don't wait forever.
          for (const to of [10, 20, 50, 100, 200]) {
            const { count, command } = cfg.nCommitted(index);
            if (count > 0) {
              if (typeof command !== 'number') cfg.fatal('wrong command type');
              if (command === x) values.push(x);
              break;
            }
            await cfg.sleep(to);
          }
        } else {
          await cfg.sleep(79 + me * 17);
        }
      }
      return values;
    };

    const ncli = 3;
    const clients: Promise<number[] | undefined>[] = [];
    for (let i = 0; i < ncli; i++) clients.push(cfg.go(() => client(i)));

    for (let iters = 0; iters < 20; iters++) {
      if (cfg.random.int(1000) < 200) {
        const i = cfg.random.int(servers);
        cfg.disconnect(i);
      }

      if (cfg.random.int(1000) < 500) {
        const i = cfg.random.int(servers);
        if (cfg.rafts[i] === undefined) await cfg.start1(i);
        cfg.connect(i);
      }

      if (cfg.random.int(1000) < 200) {
        const i = cfg.random.int(servers);
        if (cfg.rafts[i] !== undefined) cfg.crash1(i);
      }

      // Make crash/restart infrequent enough that the peers can often keep up, but not so
      // infrequent that everything has settled down from one change to the next. Pick a
      // value smaller than the election timeout, but not hugely smaller.
      await cfg.sleep((RAFT_ELECTION_TIMEOUT * 7) / 10);
    }

    await cfg.sleep(RAFT_ELECTION_TIMEOUT);
    cfg.setUnreliable(false);
    for (let i = 0; i < servers; i++) {
      if (cfg.rafts[i] === undefined) await cfg.start1(i);
      cfg.connect(i);
    }

    stop = true;

    const values: number[] = [];
    for (const pending of clients) {
      const vv = await pending;
      cfg.checkErrors();
      if (vv === undefined) cfg.fatal('client failed');
      values.push(...vv);
    }

    await cfg.sleep(RAFT_ELECTION_TIMEOUT);

    const lastIndex = await cfg.one(cfg.randCommand(), servers, true);

    const really: number[] = [];
    for (let index = 1; index <= lastIndex; index++) {
      const v = await cfg.wait(index, servers, -1);
      if (typeof v !== 'number') cfg.fatal('not an int');
      really.push(v);
    }

    const committed = new Set(really);
    for (const v1 of values) {
      if (!committed.has(v1)) cfg.fatal(`didn't find a value (${v1})`);
    }

    cfg.end();
  });
}

export function reliableChurn3C(sim: Sim, options: ScenarioOptions): Promise<void> {
  return churn(sim, options, false);
}

export function unreliableChurn3C(sim: Sim, options: ScenarioOptions): Promise<void> {
  return churn(sim, options, true);
}
