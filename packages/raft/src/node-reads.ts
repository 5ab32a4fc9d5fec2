import type { ReadOutcome } from './core/ready.js';
import { LeaderNotReadyError, NotLeaderError } from './errors.js';

/** A promise the node owes a caller: an RPC's reply or a read's index. */
export interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

/** Settles a `readIndex()` promise with what its round of heartbeats found. */
export function settleRead(
  waiter: Waiter<number>,
  read: ReadOutcome,
  leaderId: number | null,
): void {
  if (read.ok) {
    waiter.resolve(read.index);
    return;
  }
  switch (read.reason) {
    case 'not-ready':
      waiter.reject(new LeaderNotReadyError());
      return;
    case 'not-leader':
      waiter.reject(new NotLeaderError(leaderId));
      return;
    default: {
      const unreachable: never = read.reason;
      throw new TypeError(`unknown read outcome ${String(unreachable)}`);
    }
  }
}
