// The public surface; the README's API table lists exactly these. The wire protocol (argument
// and reply shapes, their guards) and the argument checks are internal: tests import them by
// path.
export {
  Clerk,
  type ClerkOptions,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_RETRY_DELAY_MS,
  type JoinGroups,
} from './clerk.js';
export { type Config, gidsOf, INVALID_GID, initialConfig, NSHARDS } from './config.js';
export {
  BadRequestError,
  ClerkClosedError,
  InvalidArgumentError,
  type InvalidReason,
  ServerError,
  SessionConflictError,
  ShardCtrlerConfigError,
  ShardCtrlerError,
  UsageError,
} from './errors.js';
export {
  type CtrlerOp,
  type CtrlerResult,
  type CtrlerSnapshot,
  ShardCtrlerMachine,
} from './machine.js';
export { rebalance } from './rebalance.js';
export { ShardCtrler, type ShardCtrlerOptions, startShardCtrler } from './server.js';
export type { GroupEntry, Invalid } from './validate.js';
export {
  type ConnectClerkOptions,
  connectClerk,
  type ListenShardCtrlerOptions,
  listenShardCtrler,
  type ShardCtrlerHandle,
} from './ws.js';
