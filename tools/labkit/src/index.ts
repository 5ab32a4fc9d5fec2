// The lab harness for replicated services (Labs 4–5); README.md maps config.go onto it.
export type { KvClerk } from '@flotilla/linearizability';

export { checkLogSizes, checkLogs, type SizedCluster } from './checks.js';
export { ClerkRegistry } from './clerks.js';
export {
  type ClientPool,
  type Outcome,
  outcomeValue,
  spawnClients,
  spawnClientsAndWait,
} from './clients.js';
export { type ClusterOptions, ServiceCluster } from './cluster.js';
export {
  makeServiceConfig,
  type ServiceConfigOptions,
  withServiceConfig,
  withWorld,
} from './config.js';
export {
  APPEND_PER_MILLE,
  ELECTION_TIMEOUT_MS,
  END_NAME_LENGTH,
  GENERIC_CLIENT_RUN_MS,
  GENERIC_ITERATIONS,
  HEARTBEAT_INTERVAL_MS,
  LINEARIZABILITY_CHECK_TIMEOUT_MS,
  MAX_RAFT_STATE_FACTOR,
  MEAN_OP_PAUSE_MS,
  OPS_PER_HEARTBEAT,
  PARTITION_JITTER_MS,
  PARTITIONER_WARMUP_MS,
  PUT_PER_MILLE,
  SPEED_NS_PER_OP,
  SPEED_OPS,
  speedLimitMs,
} from './constants.js';
export type {
  ClerkEnv,
  ClerkFactory,
  LabServer,
  RaftHandle,
  ServerEnv,
  StartServer,
} from './contract.js';
export { countedClerk } from './counted.js';
export { LabError } from './errors.js';
export { collectClients, type GenericClientOptions, genericClient } from './generic-client.js';
export { type HistoryCheckOptions, KvHistory } from './history.js';
export { ctrlerServerName, groupServerName, plainServerName, type ServerNaming } from './names.js';
export { Pacer } from './pacing.js';
export { type Partitionable, type Partitioner, startPartitioner } from './partitioner.js';
export { type EndStats, passedLine } from './stats.js';
export {
  appendElement,
  checkClntAppends,
  checkConcurrentAppends,
  checkGet,
  preview,
} from './value-checks.js';
export { World, type WorldOptions } from './world.js';
