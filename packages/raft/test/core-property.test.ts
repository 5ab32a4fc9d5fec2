import { chooseSeed, SeededRandom } from '@flotilla/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ELECTION_TICKS } from './support/core-config.js';
import { CoreNet } from './support/core-net.js';

/**
 * Random histories on an in-memory cluster of pure cores: ticks, proposals, partitions, lost and
 * reordered messages, crashes and restarts (and, in the second property, compaction). After
 * the history the network heals and every server restarts; the cluster then runs until quiet.
 *
 * CoreNet checks at every step: election safety (one leader per term), state machine safety
 * (one command per applied index, across all servers and incarnations), in-order apply, and
 * durability (each Ready's persist covers what its replies and requests depend on). At the end:
 * log matching over the durable logs, every applied sequence a prefix of the longest, and
 * liveness (all servers apply a final command).
 *
 * FLOTILLA_SEED=<n> RAFT_CORE_RUNS=<n> explore other histories (the seed is fast-check's; the
 * seed of each history's random sources is part of the history).
 */
const SEED = chooseSeed(20260101);
const RUNS = Number(process.env.RAFT_CORE_RUNS ?? 60);

type Action =
  | { readonly kind: 'run'; readonly rounds: number }
  | { readonly kind: 'tickOnly' }
  | { readonly kind: 'deliver'; readonly picks: readonly number[] }
  | { readonly kind: 'drop'; readonly pick: number }
  | { readonly kind: 'timeout'; readonly pick: number }
  | { readonly kind: 'propose'; readonly count: number }
  | { readonly kind: 'partition'; readonly mask: number }
  | { readonly kind: 'heal' }
  | { readonly kind: 'crash'; readonly node: number }
  | { readonly kind: 'restart'; readonly node: number }
  | { readonly kind: 'compact'; readonly node: number }
  | { readonly kind: 'flush' };

function actionArb(withCompaction: boolean): fc.Arbitrary<Action> {
  const node = fc.nat({ max: 4 });
  const weighted: { arbitrary: fc.Arbitrary<Action>; weight: number }[] = [
    {
      weight: 6,
      arbitrary: fc.record({ kind: fc.constant('run'), rounds: fc.integer({ min: 1, max: 25 }) }),
    },
    { weight: 3, arbitrary: fc.constant({ kind: 'tickOnly' }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('deliver'),
        picks: fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop'), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('timeout'), pick: fc.nat() }) },
    {
      weight: 5,
      arbitrary: fc.record({ kind: fc.constant('propose'), count: fc.integer({ min: 1, max: 5 }) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('partition'), mask: fc.nat({ max: 31 }) }),
    },
    { weight: 2, arbitrary: fc.constant({ kind: 'heal' }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash'), node }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('restart'), node }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'flush' }) },
  ];
  if (withCompaction) {
    weighted.push({ weight: 3, arbitrary: fc.record({ kind: fc.constant('compact'), node }) });
  }
  return fc.oneof(...weighted) as fc.Arbitrary<Action>;
}

interface Setup {
  readonly n: 3 | 5;
  readonly seed: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly noopOnElection: boolean;
  /** Small chunk sizes cut every snapshot into many InstallSnapshot chunks. */
  readonly snapshotChunkBytes: number;
  readonly batching: boolean;
}

const setupArb: fc.Arbitrary<Setup> = fc.record({
  n: fc.constantFrom(3 as const, 5 as const),
  seed: fc.nat(),
  checkQuorum: fc.boolean(),
  preVote: fc.boolean(),
  noopOnElection: fc.boolean(),
  snapshotChunkBytes: fc.constantFrom(3, 16, 1 << 20),
  batching: fc.boolean(),
});

function play(setup: Setup, actions: readonly Action[], snapshotEvery?: number): CoreNet {
  const { n } = setup;
  const net = new CoreNet({
    n,
    core: {
      checkQuorum: setup.checkQuorum,
      preVote: setup.preVote,
      noopOnElection: setup.noopOnElection,
      snapshotChunkBytes: setup.snapshotChunkBytes,
      maxEntriesPerAppend: 4,
      maxInflightAppends: 2,
    },
    random: (i) => new SeededRandom(setup.seed * 31 + i),
    batching: setup.batching,
    snapshotEvery,
  });
  let next = 0;
  const proposeOnLeaders = (count: number): void => {
    for (let i = 0; i < n; i++) {
      if (!net.up[i] || !net.core(i).isLeader) continue;
      for (let k = 0; k < count; k++) net.propose(i, `c${next++}`);
    }
  };
  for (const action of actions) {
    switch (action.kind) {
      case 'run':
        net.run(action.rounds);
        break;
      case 'tickOnly':
        net.tick();
        break;
      case 'deliver':
        for (const pick of action.picks) {
          if (net.queue.length > 0) net.deliverAt(pick % net.queue.length);
        }
        break;
      case 'drop':
        if (net.queue.length > 0) net.dropAt(action.pick % net.queue.length);
        break;
      case 'timeout':
        if (net.queue.length > 0) net.timeoutAt(action.pick % net.queue.length);
        break;
      case 'propose':
        proposeOnLeaders(action.count);
        break;
      case 'partition': {
        net.heal();
        const a: number[] = [];
        const b: number[] = [];
        for (let i = 0; i < n; i++) ((action.mask >> i) & 1 ? a : b).push(i);
        net.partition(a, b);
        break;
      }
      case 'heal':
        net.heal();
        break;
      case 'crash': {
        const down = net.up.filter((up) => !up).length;
        if (action.node < n && down < Math.floor((n - 1) / 2)) net.crash(action.node);
        break;
      }
      case 'restart':
        if (action.node < n) net.restart(action.node);
        break;
      case 'compact':
        if (action.node < n && net.up[action.node]) net.compact(action.node);
        break;
      case 'flush':
        net.processAll();
        break;
    }
  }
  // Heal, bring everyone back, and run until a final command is applied everywhere. Without
  // noopOnElection an entry of an earlier term commits only under a later one: like a client,
  // propose a fresh final command under each new leader until one lands.
  net.heal();
  for (let i = 0; i < n; i++) if (!net.up[i]) net.restart(i);
  net.deliverAll();
  const finals = new Set<string>();
  const proposedIn = new Set<number>();
  const done = (): boolean => {
    const last = net.applied[0]?.at(-1);
    return (
      typeof last === 'string' &&
      finals.has(last) &&
      net.applied.every((list) => list.length === net.applied[0]?.length && list.at(-1) === last)
    );
  };
  for (let round = 0; round < 40 * ELECTION_TICKS && !done(); round++) {
    net.run(1);
    const leader = net.leader();
    if (leader !== undefined && !proposedIn.has(net.core(leader).term)) {
      proposedIn.add(net.core(leader).term);
      const marker = `final${next++}`;
      finals.add(marker);
      net.propose(leader, marker);
    }
  }
  net.checkLogMatching();
  net.checkAppliedPrefixes();
  expect(done(), 'every server applied the same final command after healing').toBe(true);
  return net;
}

describe('RaftCore property: safety under random histories', () => {
  it('election safety, log matching, state machine safety and applied prefixes hold (3 or 5 servers, partitions, loss, reordering, restarts)', () => {
    fc.assert(
      fc.property(
        setupArb,
        fc.array(actionArb(false), { minLength: 30, maxLength: 120, size: 'large' }),
        (setup, actions) => {
          play(setup, actions);
        },
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, 600_000);

  it('the same properties hold with compaction and InstallSnapshot in the mix', () => {
    fc.assert(
      fc.property(
        setupArb,
        fc.array(actionArb(true), { minLength: 30, maxLength: 120, size: 'large' }),
        fc.integer({ min: 2, max: 6 }),
        (setup, actions, every) => {
          play(setup, actions, every);
        },
      ),
      { seed: SEED + 1, numRuns: RUNS, endOnFailure: true },
    );
  }, 600_000);
});
