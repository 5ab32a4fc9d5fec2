/**
 * The settings the core tests run cores with, and the random sources they give them. Election
 * timeouts are exact by default (`zeroRandom`), so a test can count ticks; `SeededRandom`
 * (from @flotilla/transport) gives reproducible variety where a test wants it.
 */
import { RaftCore, type RaftCoreConfig } from '../../src/core/raft.js';
import type { RaftRandom } from '../../src/env.js';
import type { PersistedState } from '../../src/persister/persister.js';

export const ELECTION_TICKS = 10;
export const HEARTBEAT_TICKS = 2;
export const MAX_ENTRIES = 64;
export const MAX_INFLIGHT = 4;

/** random.int always 0: every election timeout is exactly `electionTicks`. */
export const zeroRandom: RaftRandom = { int: () => 0 };

/** A random that always returns `value` (clamped to the range asked for). */
export function fixedRandom(value: number): RaftRandom {
  return { int: (n) => Math.min(value, n - 1) };
}

export type CoreOptions = Partial<Omit<RaftCoreConfig, 'me' | 'peerCount'>>;

export function coreConfig(
  me: number,
  peerCount: number,
  options: CoreOptions = {},
): RaftCoreConfig {
  return {
    me,
    peerCount,
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: HEARTBEAT_TICKS,
    maxEntriesPerAppend: MAX_ENTRIES,
    maxAppendBytes: 4 * 1024 * 1024,
    maxInflightAppends: MAX_INFLIGHT,
    checkQuorum: false,
    preVote: false,
    // Off by default so tests can count indexes; the no-op tests turn it on.
    noopOnElection: false,
    snapshotChunkBytes: 1024 * 1024,
    random: zeroRandom,
    ...options,
  };
}

export function newCore(
  me: number,
  peerCount: number,
  options: CoreOptions = {},
  state?: PersistedState,
): RaftCore {
  return new RaftCore(coreConfig(me, peerCount, options), state);
}
