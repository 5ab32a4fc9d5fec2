import type { LeaderCallerErrors } from '@flotilla/transport';
import { BadRequestError, ClerkClosedError, ServerError, ShardKvConfigError } from './errors.js';

/** shardkv's own errors for the call loops: the clerk throws these, with their codes. */
export const clerkErrors: LeaderCallerErrors = {
  closed: () => new ClerkClosedError(),
  badRequest: (message) => new BadRequestError(message),
  server: (code, message) => new ServerError(code, message),
  config: (option, message) => new ShardKvConfigError(option, message),
};
