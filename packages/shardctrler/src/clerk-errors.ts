import type { LeaderCallerErrors } from '@flotilla/transport';
import {
  BadRequestError,
  ClerkClosedError,
  ServerError,
  ShardCtrlerConfigError,
} from './errors.js';

/** shardctrler's own errors for transport's `LeaderCaller`: the clerk throws these, with their codes. */
export const clerkErrors: LeaderCallerErrors = {
  closed: () => new ClerkClosedError(),
  badRequest: (message) => new BadRequestError(message),
  server: (code, message) => new ServerError(code, message),
  config: (option, message) => new ShardCtrlerConfigError(option, message),
};
