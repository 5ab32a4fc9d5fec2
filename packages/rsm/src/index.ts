// The public surface; the README's API table lists exactly these. The log-entry and snapshot
// encodings, the apply loop and the waiter tables are internal.
export {
  LeadershipLostError,
  NotLeaderError,
  ReadTimeoutError,
  RsmClosedError,
  RsmConfigError,
  RsmError,
  StaleRequestError,
  SubmitTimeoutError,
} from './errors.js';
export {
  type ListenReplicaOptions,
  listenReplica,
  PEER_FRAME_BYTES,
  type ReplicaEndpointOptions,
  type ReplicaHandle,
  type ReplicaParts,
  type ServedReplica,
} from './listen-replica.js';
export {
  DEFAULT_READ_TIMEOUT_MS,
  DEFAULT_SUBMIT_TIMEOUT_MS,
  NEVER_SNAPSHOT,
  type ReadMode,
  type ReplicatedStateMachineOptions,
} from './options.js';
export { ReplicatedStateMachine } from './rsm.js';
export {
  type ServedHandle,
  type ServeUntilStoppedOptions,
  serveUntilStopped,
} from './serve-until-stopped.js';
export {
  type ClientId,
  ClientSessions,
  type ClientSessionsSnapshot,
  type Session,
  type SessionCheck,
  type Sessions,
} from './sessions.js';
export type {
  AnyStateMachine,
  ApplyContext,
  OpOf,
  ResultOf,
  StateMachine,
} from './state-machine.js';
