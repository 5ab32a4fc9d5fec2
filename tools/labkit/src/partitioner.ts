import type { Clock, Random } from '@flotilla/transport';
import { ELECTION_TIMEOUT_MS, PARTITION_JITTER_MS } from './constants.js';

/** What the partitioner needs of a cluster. */
export interface Partitionable {
  readonly n: number;
  partition(p1: readonly number[], p2: readonly number[]): void;
}

export interface Partitioner {
  /** Asks it to stop and resolves once it has (after its current sleep, as the lab's). */
  stop(): Promise<void>;
  /** Rounds run so far. */
  readonly rounds: number;
}

/**
 * The lab's `partitioner`: until stopped, put each server independently into group 0 or 1
 * (`rand % 2`; a group may be empty), `partition(g0, g1)`, sleep `electionTimeout + rand %
 * 200` ms. Call `cluster.connectAll()` after `stop()` to heal.
 */
export function startPartitioner(
  cluster: Partitionable,
  random: Random,
  clock: Clock,
): Partitioner {
  let stopped = false;
  let rounds = 0;
  const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
  const loop = (async () => {
    while (!stopped) {
      const groups: [number[], number[]] = [[], []];
      for (let i = 0; i < cluster.n; i++) groups[random.int(2) as 0 | 1].push(i);
      cluster.partition(groups[0], groups[1]);
      rounds++;
      await sleep(ELECTION_TIMEOUT_MS + random.int(PARTITION_JITTER_MS));
    }
  })();
  return {
    stop: () => {
      stopped = true;
      return loop;
    },
    get rounds() {
      return rounds;
    },
  };
}
