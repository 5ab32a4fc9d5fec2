/**
 * The lab testers' numbers (docs/spec/kvraft.md "Harness facts", GenericTest, GenericTestSpeed;
 * docs/spec/shard.md), named once. All durations are ms of virtual time. The 120 s per-test
 * limit is not here: `simulateTest` (transport) owns it.
 */

/** The testers' election timeout: generous, and the unit of most of their waits. */
export const ELECTION_TIMEOUT_MS = 1000;

/** Porcupine's time limit for a history check (real time, as the lab's). */
export const LINEARIZABILITY_CHECK_TIMEOUT_MS = 1000;

/** Raft state may grow to this many times `maxraftstate` before "logs were not trimmed". */
export const MAX_RAFT_STATE_FACTOR = 8;

/** GenericTest: iterations of spawn clients, run, stop, (heal), (crash), check. */
export const GENERIC_ITERATIONS = 3;
/** GenericTest: how long the clients run after the partitioner (if any) has started. */
export const GENERIC_CLIENT_RUN_MS = 5000;
/** GenericTest: clients run this long undisturbed before the partitioner starts. */
export const PARTITIONER_WARMUP_MS = 1000;
/** The partitioner sleeps `ELECTION_TIMEOUT_MS + rand % PARTITION_JITTER_MS` per round. */
export const PARTITION_JITTER_MS = 200;

/** GenericTest's client loop: an operation is an Append when `rand % 1000 < 500`. */
export const APPEND_PER_MILLE = 500;
/** … else, with random keys, a Put when a second `rand % 1000 < 100`; else a Get. */
export const PUT_PER_MILLE = 100;

/** GenericTestSpeed: sequential Appends timed. */
export const SPEED_OPS = 1000;
/** GenericTestSpeed: the heartbeat interval it assumes … */
export const HEARTBEAT_INTERVAL_MS = 100;
/** … and the operations it wants completed per heartbeat interval. */
export const OPS_PER_HEARTBEAT = 3;
/** 100 ms / 3 in Go's integer nanoseconds: 33,333,333 ns a Speed operation may take. */
export const SPEED_NS_PER_OP = Math.floor((HEARTBEAT_INTERVAL_MS * 1e6) / OPS_PER_HEARTBEAT);

/** The longest `ops` operations may take in GenericTestSpeed (ms; ≈ 33,333 for 1,000). */
export function speedLimitMs(ops: number = SPEED_OPS): number {
  return (ops * SPEED_NS_PER_OP) / 1e6;
}

/** Client ends get random names of this length (the labs' `randstring(20)`). */
export const END_NAME_LENGTH = 20;

/**
 * The mean pause after a client-loop turn that took no virtual time (see pacing.ts). The same
 * figure as kvsrv's lab harness, for the same reason: it bounds the history the 1 s
 * linearizability check has to search.
 */
export const MEAN_OP_PAUSE_MS = 2;
