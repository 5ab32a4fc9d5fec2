import type { LeaderCallerErrors } from '@flotilla/transport';
import { BadRequestError, ClerkClosedError, KvraftConfigError, ServerError } from './errors.js';

/** kvraft's own errors for transport's `LeaderCaller`: the clerk throws these, with their codes. */
export const clerkErrors: LeaderCallerErrors = {
  closed: () => new ClerkClosedError(),
  badRequest: (message) => new BadRequestError(message),
  server: (code, message) => new ServerError(code, message),
  config: (option, message) => new KvraftConfigError(option, message),
};
