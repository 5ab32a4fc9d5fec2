export type {
  AppendEntriesArgs,
  AppendEntriesReply,
  InstallSnapshotArgs,
  InstallSnapshotReply,
  LogEntry,
  RaftArgs,
  RaftMethod,
  RaftReplies,
  RequestVoteArgs,
  RequestVoteReply,
} from './core/messages.js';
export { RaftCore, type RaftCoreConfig, type Role } from './core/raft.js';
export type { ApplyMsg, OutgoingReply, OutgoingRequest, ReadOutcome, Ready } from './core/ready.js';
export type { RaftClientEnd, RaftClock, RaftLogger, RaftRandom } from './env.js';
export {
  ApplyListenerError,
  BadMessageError,
  CorruptStateError,
  type CorruptStateReason,
  InvalidUpdateError,
  InvariantViolationError,
  LeaderNotReadyError,
  NodeKilledError,
  NotLeaderError,
  PersisterClosedError,
  PersisterFailedError,
  PersisterIoError,
  type PersisterIoOperation,
  PersisterLockedError,
  RaftConfigError,
  RaftError,
  StateListenerError,
} from './errors.js';
export { RaftNode, type RaftNodeOptions, type RaftNodeState, type RaftService } from './node.js';
export {
  FilePersister,
  type FilePersisterFile,
  type FilePersisterIo,
  type FilePersisterOptions,
} from './persister/file-persister.js';
export { MemoryPersister } from './persister/memory-persister.js';
export type {
  HardState,
  PersistedState,
  Persister,
  PersistUpdate,
  Snapshot,
} from './persister/persister.js';
