// The public surface; the README's API section lists exactly these.
export { ChaosError, type ChaosErrorCode } from './errors.js';
export { emptyPipeStats, FaultPipe, type FaultPipeOptions, type PipeStats } from './fault-pipe.js';
export {
  DEFAULT_PROXY_MAX_PAYLOAD_BYTES,
  DEFAULT_PROXY_MAX_QUEUED_MESSAGES,
  FaultProxy,
  type FaultProxyOptions,
  type ProxyStats,
} from './fault-proxy.js';
export {
  DEFAULT_REORDER_MAX_HOLD_MS,
  type LinkFaults,
  NO_FAULTS,
  type ProxyFaults,
  type ResolvedLinkFaults,
  type ResolvedProxyFaults,
  resolveLinkFaults,
  resolveProxyFaults,
} from './faults.js';
export {
  LinkMap,
  type LinkMapOptions,
  type LinkMapStats,
  type LinkStats,
} from './link-map.js';
export type {
  ProcessExit,
  ProcessSpec,
  ProcessState,
} from './managed-process.js';
export {
  DEFAULT_MAX_LINE_CHARS,
  DEFAULT_MAX_OUTPUT_LINES,
  type OutputLine,
} from './output-buffer.js';
export { type KvraftTargetOptions, kvraftTarget } from './run/kvraft-target.js';
export { type ChaosRunOptions, type ChaosSummary, runChaos } from './run/runner.js';
export {
  DEFAULT_WEIGHTS,
  describeEpisode,
  describeFault,
  type Episode,
  FAULT_KINDS,
  type Fault,
  type FaultKind,
  faultSchedule,
  PARTITION_KINDS,
  type ScheduleOptions,
} from './run/schedule.js';
export { type ShardkvTargetOptions, shardkvTarget } from './run/shardkv-target.js';
export { formatSummary } from './run/summary.js';
export type { ChaosChurn, ChaosCluster, ChaosNetwork, ChaosTarget } from './run/target.js';
export type { Verdict } from './run/verify.js';
export type { ChaosClerk } from './run/workload.js';
export {
  DEFAULT_TERMINATE_TIMEOUT_MS,
  Supervisor,
  type SupervisorOptions,
} from './supervisor.js';
export { type Blocked, bridgeBlocks, partitionBlocks } from './topology.js';
