import type { Sim } from '@flotilla/transport';
import { type Cluster, RAFT_ELECTION_TIMEOUT, withCluster } from '../harness/cluster.js';
import type { ScenarioOptions } from '../harness/run.js';

function leaderNode(cfg: Cluster, i: number) {
  const node = cfg.rafts[i];
  if (node === undefined) return cfg.fatal(`server ${i} is not running`);
  return node;
}

/** Indexes 1..3 agree in order, and nothing is committed before its start. */
export function basicAgree3B(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3B): basic agreement');

    const iters = 3;
    for (let index = 1; index < iters + 1; index++) {
      const nd = cfg.nCommitted(index).count;
      if (nd > 0) cfg.fatal('some have committed before Start()');

      const xindex = await cfg.one(index * 100, servers, false);
      if (xindex !== index) cfg.fatal(`got index ${xindex} but expected ${index}`);
    }

    cfg.end();
  });
}

/** Each command is sent to each peer once: bytes stay within servers × payload + 50,000. */
export function rpcBytes3B(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3B): RPC byte count');

    await cfg.one(99, servers, false);
    const bytes0 = cfg.bytesTotal();

    const iters = 10;
    let sent = 0;
    for (let index = 2; index < iters + 2; index++) {
      const cmd = cfg.random.string(5000);
      const xindex = await cfg.one(cmd, servers, false);
      if (xindex !== index) cfg.fatal(`got index ${xindex} but expected ${index}`);
      sent += cmd.length;
    }

    const bytes1 = cfg.bytesTotal();
    const got = bytes1 - bytes0;
    const expected = servers * sent;
    if (got > expected + 50_000) {
      cfg.fatal(`too many RPC bytes; got ${got}, expected ${expected}`);
    }

    cfg.end();
  });
}

/** Agreement with one follower gone; no commitment with both gone. */
export function followerFailure3B(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3B): test progressive failure of followers');

    const index1 = await cfg.one(101, servers, false);
    const nn = cfg.nCommitted(index1).count;
    if (nn !== servers) cfg.fatal(`${nn} committed but no majority`);

    // disconnect one follower from the network.
    const leader1 = await cfg.checkOneLeader();
    cfg.disconnect((leader1 + 1) % servers);

    // the leader and remaining follower should be able to agree despite the disconnected
    // follower.
    await cfg.one(102, servers - 1, false);
    await cfg.sleep(RAFT_ELECTION_TIMEOUT);
    await cfg.one(103, servers - 1, false);

    // disconnect the remaining follower
    const leader2 = await cfg.checkOneLeader();
    cfg.disconnect((leader2 + 1) % servers);
    cfg.disconnect((leader2 + 2) % servers);

    // submit a command.
    const { index, isLeader } = leaderNode(cfg, leader2).start(104);
    if (!isLeader) cfg.fatal('leader rejected Start()');
    if (index !== 4) cfg.fatal(`expected index 4, got ${index}`);

    await cfg.sleep(2 * RAFT_ELECTION_TIMEOUT);

    // check that command 104 did not commit.
    const n = cfg.nCommitted(index).count;
    if (n > 0) cfg.fatal(`${n} committed but no majority`);

    cfg.end();
  });
}

/** The others agree after the leader leaves; nothing commits once the new leader leaves too. */
export function leaderFailure3B(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3B): test failure of leaders');

    await cfg.one(101, servers, false);

    // disconnect the first leader.
    const leader1 = await cfg.checkOneLeader();
    cfg.disconnect(leader1);

    // the remaining followers should elect a new leader.
    await cfg.one(102, servers - 1, false);
    await cfg.sleep(RAFT_ELECTION_TIMEOUT);
    await cfg.one(103, servers - 1, false);

    // disconnect the new leader.
    const leader2 = await cfg.checkOneLeader();
    cfg.disconnect(leader2);

    // submit a command to each server.
    for (let i = 0; i < servers; i++) leaderNode(cfg, i).start(104);

    await cfg.sleep(2 * RAFT_ELECTION_TIMEOUT);

    // check that command 104 did not commit.
    const n = cfg.nCommitted(4).count;
    if (n > 0) cfg.fatal(`${n} committed but no majority`);

    cfg.end();
  });
}

/** A disconnected follower rejoins, catches up, and everyone agrees after. */
export function failAgree3B(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3B): agreement after follower reconnects');

    await cfg.one(101, servers, false);

    // disconnect one follower from the network.
    const leader = await cfg.checkOneLeader();
    cfg.disconnect((leader + 1) % servers);

    // the leader and remaining follower should be able to agree despite the disconnected
    // follower.
    await cfg.one(102, servers - 1, false);
    await cfg.one(103, servers - 1, false);
    await cfg.sleep(RAFT_ELECTION_TIMEOUT);
    await cfg.one(104, servers - 1, false);
    await cfg.one(105, servers - 1, false);

    // re-connect
    cfg.connect((leader + 1) % servers);

    // the full set of servers should preserve previous agreements, and be able to agree on
    // new commands.
    await cfg.one(106, servers, true);
    await cfg.sleep(RAFT_ELECTION_TIMEOUT);
    await cfg.one(107, servers, true);

    cfg.end();
  });
}

/** Three of five followers gone: index 2 does not commit; after repair, agreement resumes. */
export function failNoAgree3B(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 5;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3B): no agreement if too many followers disconnect');

    await cfg.one(10, servers, false);

    // 3 of 5 followers disconnect
    const leader = await cfg.checkOneLeader();
    cfg.disconnect((leader + 1) % servers);
    cfg.disconnect((leader + 2) % servers);
    cfg.disconnect((leader + 3) % servers);

    const { index, isLeader } = leaderNode(cfg, leader).start(20);
    if (!isLeader) cfg.fatal('leader rejected Start()');
    if (index !== 2) cfg.fatal(`expected index 2, got ${index}`);

    await cfg.sleep(2 * RAFT_ELECTION_TIMEOUT);

    const n = cfg.nCommitted(index).count;
    if (n > 0) cfg.fatal(`${n} committed but no majority`);

    // repair
    cfg.connect((leader + 1) % servers);
    cfg.connect((leader + 2) % servers);
    cfg.connect((leader + 3) % servers);

    // the disconnected majority may have chosen a leader from among their own ranks,
    // forgetting index 2.
    const leader2 = await cfg.checkOneLeader();
    const started = leaderNode(cfg, leader2).start(30);
    if (!started.isLeader) cfg.fatal('leader2 rejected Start()');
    if (started.index < 2 || started.index > 3) cfg.fatal(`unexpected index ${started.index}`);

    await cfg.one(1000, servers, true);

    cfg.end();
  });
}

/** Five starts on the leader within one term all commit (up to 5 tries, 3 s apart). */
export function concurrentStarts3B(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3B): concurrent Start()s');

    let success = false;
    loop: for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt > 0) {
        // give solution some time to settle
        await cfg.sleep(3000);
      }

      const leader = await cfg.checkOneLeader();
      const first = leaderNode(cfg, leader).start(1);
      if (!first.isLeader) {
        // leader moved on really quickly
        continue;
      }
      const term = first.term;

      // Start() returns at once, so the lab's five goroutines are five calls in a row.
      const iters = 5;
      const is: number[] = [];
      for (let ii = 0; ii < iters; ii++) {
        const started = leaderNode(cfg, leader).start(100 + ii);
        if (started.term !== term || !started.isLeader) continue;
        is.push(started.index);
      }

      for (let j = 0; j < servers; j++) {
        if (cfg.rafts[j]?.getState().term !== term) {
          // term changed -- can't expect low RPC counts
          continue loop;
        }
      }

      const cmds: number[] = [];
      for (const index of is) {
        const cmd = await cfg.wait(index, servers, term);
        if (typeof cmd !== 'number') cfg.fatal(`value ${String(cmd)} is not an int`);
        if (cmd === -1) {
          // peers have moved on to later terms so we can't expect all Start()s to have
          // succeeded
          continue loop;
        }
        cmds.push(cmd);
      }

      for (let ii = 0; ii < iters; ii++) {
        const x = 100 + ii;
        if (!cmds.includes(x)) cfg.fatal(`cmd ${x} missing in ${cmds}`);
      }

      success = true;
      break;
    }

    if (!success) cfg.fatal('term changed too often');

    cfg.end();
  });
}

/** A partitioned leader's uncommitted entries are replaced when it rejoins. */
export function rejoin3B(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3B): rejoin of partitioned leader');

    await cfg.one(101, servers, true);

    // leader network failure
    const leader1 = await cfg.checkOneLeader();
    cfg.disconnect(leader1);

    // make old leader try to agree on some entries
    leaderNode(cfg, leader1).start(102);
    leaderNode(cfg, leader1).start(103);
    leaderNode(cfg, leader1).start(104);

    // new leader commits, also for index=2
    await cfg.one(103, 2, true);

    // new leader network failure
    const leader2 = await cfg.checkOneLeader();
    cfg.disconnect(leader2);

    // old leader connected again
    cfg.connect(leader1);

    await cfg.one(104, 2, true);

    // all together now
    cfg.connect(leader2);

    await cfg.one(105, servers, true);

    cfg.end();
  });
}

/** The leader backs up quickly over 50-entry stretches of conflicting follower logs. */
export function backup3B(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 5;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3B): leader backs up quickly over incorrect follower logs');

    await cfg.one(cfg.randCommand(), servers, true);

    // put leader and one follower in a partition
    const leader1 = await cfg.checkOneLeader();
    cfg.disconnect((leader1 + 2) % servers);
    cfg.disconnect((leader1 + 3) % servers);
    cfg.disconnect((leader1 + 4) % servers);

    // submit lots of commands that won't commit
    for (let i = 0; i < 50; i++) leaderNode(cfg, leader1).start(cfg.randCommand());

    await cfg.sleep(RAFT_ELECTION_TIMEOUT / 2);

    cfg.disconnect((leader1 + 0) % servers);
    cfg.disconnect((leader1 + 1) % servers);

    // allow other partition to recover
    cfg.connect((leader1 + 2) % servers);
    cfg.connect((leader1 + 3) % servers);
    cfg.connect((leader1 + 4) % servers);

    // lots of successful commands to new group.
    for (let i = 0; i < 50; i++) await cfg.one(cfg.randCommand(), 3, true);

    // now another partitioned leader and one follower
    const leader2 = await cfg.checkOneLeader();
    let other = (leader1 + 2) % servers;
    if (leader2 === other) other = (leader2 + 1) % servers;
    cfg.disconnect(other);

    // lots more commands that won't commit
    for (let i = 0; i < 50; i++) leaderNode(cfg, leader2).start(cfg.randCommand());

    await cfg.sleep(RAFT_ELECTION_TIMEOUT / 2);

    // bring original leader back to life,
    for (let i = 0; i < servers; i++) cfg.disconnect(i);
    cfg.connect((leader1 + 0) % servers);
    cfg.connect((leader1 + 1) % servers);
    cfg.connect(other);

    // lots of successful commands to new group.
    for (let i = 0; i < 50; i++) await cfg.one(cfg.randCommand(), 3, true);

    // now everyone
    for (let i = 0; i < servers; i++) cfg.connect(i);
    await cfg.one(cfg.randCommand(), servers, true);

    cfg.end();
  });
}

/** RPC counts: electing ≤ 30, 1 + 11 commands ≤ 42, one idle second ≤ 60. */
export function count3B(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin("Test (3B): RPC counts aren't too high");

    const rpcs = (): number => {
      let n = 0;
      for (let j = 0; j < servers; j++) n += cfg.rpcCount(j);
      return n;
    };

    let leader = await cfg.checkOneLeader();

    let total1 = rpcs();
    if (total1 > 30 || total1 < 1) {
      cfg.fatal(`too many or few RPCs (${total1}) to elect initial leader`);
    }

    let total2 = 0;
    let success = false;
    loop: for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt > 0) {
        // give solution some time to settle
        await cfg.sleep(3000);
      }

      leader = await cfg.checkOneLeader();
      total1 = rpcs();

      const iters = 10;
      const first = leaderNode(cfg, leader).start(1);
      if (!first.isLeader) {
        // leader moved on really quickly
        continue;
      }
      const { index: starti, term } = first;
      const cmds: number[] = [];
      for (let i = 1; i < iters + 2; i++) {
        const x = cfg.random.int(2 ** 31);
        cmds.push(x);
        const started = leaderNode(cfg, leader).start(x);
        if (started.term !== term) {
          // Term changed while starting
          continue loop;
        }
        if (!started.isLeader) {
          // No longer the leader, so term has changed
          continue loop;
        }
        if (starti + i !== started.index) cfg.fatal('Start() failed');
      }

      for (let i = 1; i < iters + 1; i++) {
        const cmd = await cfg.wait(starti + i, servers, term);
        if (cmd !== cmds[i - 1]) {
          if (cmd === -1) {
            // term changed -- try again
            continue loop;
          }
          cfg.fatal(
            `wrong value ${String(cmd)} committed for index ${starti + i}; expected ${cmds}`,
          );
        }
      }

      let failed = false;
      total2 = 0;
      for (let j = 0; j < servers; j++) {
        if (cfg.rafts[j]?.getState().term !== term) {
          // term changed -- can't expect low RPC counts; need to keep going to update total2
          failed = true;
        }
        total2 += cfg.rpcCount(j);
      }

      if (failed) continue;

      if (total2 - total1 > (iters + 1 + 3) * 3) {
        cfg.fatal(`too many RPCs (${total2 - total1}) for ${iters} entries`);
      }

      success = true;
      break;
    }

    if (!success) cfg.fatal('term changed too often');

    await cfg.sleep(RAFT_ELECTION_TIMEOUT);

    let total3 = 0;
    for (let j = 0; j < servers; j++) total3 += cfg.rpcCount(j);

    if (total3 - total2 > 3 * 20) {
      cfg.fatal(`too many RPCs (${total3 - total2}) for 1 second of idleness`);
    }

    cfg.end();
  });
}
