export { Clerk, type ClerkOptions } from './clerk.js';
export { drawClientId } from './client-id.js';
export {
  BadRequestError,
  ClerkClosedError,
  KeyTooLargeError,
  KvsrvError,
  ServerError,
  SessionConflictError,
  UsageError,
  ValueTooLargeError,
} from './errors.js';
export { DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES, type Limits } from './limits.js';
export {
  type GetArgs,
  isGetArgs,
  isReply,
  isUpdateArgs,
  type Refusal,
  type Reply,
  SERVICE,
  type UpdateArgs,
} from './protocol.js';
export { KvServer, type KvServerOptions, type KvServerStats } from './server.js';
export {
  type ConnectClerkOptions,
  connectClerk,
  frameBytesFor,
  type KvServerHandle,
  type ListenKvServerOptions,
  listenKvServer,
} from './ws.js';
