// The public surface; the README's API table lists exactly these. The wire protocol (argument
// and reply shapes, their guards) is internal: tests import it by path.
export {
  Clerk,
  type ClerkOptions,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_RETRY_DELAY_MS,
} from './clerk.js';
export {
  BadRequestError,
  ClerkClosedError,
  KeyTooLargeError,
  KvraftConfigError,
  KvraftError,
  ServerError,
  SessionConflictError,
  UsageError,
  ValueTooLargeError,
} from './errors.js';
export {
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  type KvLimits,
} from './limits.js';
export { KvMachine, type KvOp, type KvSnapshot } from './machine.js';
export { KvServer, type KvServerOptions, startKvServer } from './server.js';
export {
  type ConnectClerkOptions,
  connectClerk,
  type KvServerHandle,
  type ListenKvServerOptions,
  listenKvServer,
} from './ws.js';
