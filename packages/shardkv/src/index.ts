// The public surface; the README's API table lists exactly these. The wire protocol (argument
// and reply shapes, their guards) is internal: tests import it by path.
export {
  Clerk,
  type ClerkOptions,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_RETRY_DELAY_MS,
} from './clerk.js';
export { type Custody, custodyStep, type Holder, type ShardMove, type Source } from './custody.js';
export {
  BadRequestError,
  ClerkClosedError,
  KeyTooLargeError,
  ServerError,
  SessionConflictError,
  ShardKvConfigError,
  ShardKvError,
  UsageError,
  ValueTooLargeError,
} from './errors.js';
export { key2shard } from './key2shard.js';
export { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES, type KvLimits } from './limits.js';
export {
  type GetOutcome,
  ShardKvMachine,
  type ShardKvOp,
  type ShardKvResult,
  type ShardKvSnapshot,
} from './machine.js';
export {
  DEFAULT_GROUP_CALL_TIMEOUT_MS,
  DEFAULT_PAGE_BYTES,
  DEFAULT_POLL_INTERVAL_MS,
  ShardKv,
  type ShardKvOptions,
  startShardKv,
} from './server.js';
export { Shard, type ShardStatus } from './shard.js';
export {
  type ConnectClerkOptions,
  connectClerk,
  type ListenShardKvOptions,
  listenShardKv,
  type ShardKvHandle,
} from './ws.js';
