// The public surface; the README's API table lists exactly these. The wire protocol (service
// name, argument and reply shapes, their guards) is internal: tests and the bench import it by
// path.
export { Clerk, type ClerkOptions } from './clerk.js';
export {
  BadRequestError,
  ClerkClosedError,
  KeyTooLargeError,
  KvsrvError,
  ServerError,
  SessionConflictError,
  ValueTooLargeError,
} from './errors.js';
export { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES, type Limits } from './limits.js';
export { KvServer, type KvServerOptions, type KvServerStats } from './server.js';
export {
  type ConnectClerkOptions,
  connectClerk,
  frameBytesFor,
  type KvServerHandle,
  type ListenKvServerOptions,
  listenKvServer,
} from './ws.js';
