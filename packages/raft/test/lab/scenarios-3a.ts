import type { Sim } from '@flotilla/transport';
import { type Cluster, RAFT_ELECTION_TIMEOUT, withCluster } from '../harness/cluster.js';
import type { ScenarioOptions } from '../harness/run.js';

/** A leader is elected, everyone agrees on its term, and it stays without failures. */
export function initialElection3A(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3A): initial election');

    // is a leader elected?
    await cfg.checkOneLeader();

    // sleep a bit to avoid racing with followers learning of the election, then check that
    // all peers agree on the term.
    await cfg.sleep(50);
    const term1 = cfg.checkTerms();
    if (term1 < 1) cfg.fatal(`term is ${term1}, but should be at least 1`);

    // does the leader+term stay the same if there is no network failure?
    await cfg.sleep(2 * RAFT_ELECTION_TIMEOUT);
    const term2 = cfg.checkTerms();
    if (term1 !== term2) cfg.log('warning: term changed even though there were no failures');

    // there should still be a leader.
    await cfg.checkOneLeader();

    cfg.end();
  });
}

/** A new leader after the leader's disconnection; none without a quorum; one once it is back. */
export function reElection3A(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 3;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3A): election after network failure');

    const leader1 = await cfg.checkOneLeader();

    // if the leader disconnects, a new one should be elected.
    cfg.disconnect(leader1);
    await cfg.checkOneLeader();

    // if the old leader rejoins, that shouldn't disturb the new leader, and the old leader
    // should switch to follower.
    cfg.connect(leader1);
    const leader2 = await cfg.checkOneLeader();

    // if there's no quorum, no new leader should be elected.
    cfg.disconnect(leader2);
    cfg.disconnect((leader2 + 1) % servers);
    await cfg.sleep(2 * RAFT_ELECTION_TIMEOUT);

    // check that the one connected server does not think it is the leader.
    cfg.checkNoLeader();

    // if a quorum arises, it should elect a leader.
    cfg.connect((leader2 + 1) % servers);
    await cfg.checkOneLeader();

    // re-join of last node shouldn't prevent leader from existing.
    cfg.connect(leader2);
    await cfg.checkOneLeader();

    cfg.end();
  });
}

/** Seven servers, nine rounds of three random disconnections: always a leader. */
export function manyElections3A(sim: Sim, options: ScenarioOptions): Promise<void> {
  const servers = 7;
  return withCluster(sim, servers, { ...options }, async (cfg: Cluster) => {
    cfg.begin('Test (3A): multiple elections');

    await cfg.checkOneLeader();

    const iters = 10;
    for (let ii = 1; ii < iters; ii++) {
      // disconnect three nodes (possibly the same one twice)
      const i1 = cfg.random.int(servers);
      const i2 = cfg.random.int(servers);
      const i3 = cfg.random.int(servers);
      cfg.disconnect(i1);
      cfg.disconnect(i2);
      cfg.disconnect(i3);

      // either the current leader should still be alive, or the remaining four should elect
      // a new one.
      await cfg.checkOneLeader();

      cfg.connect(i1);
      cfg.connect(i2);
      cfg.connect(i3);
    }

    await cfg.checkOneLeader();

    cfg.end();
  });
}
