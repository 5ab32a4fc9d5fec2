import type { RaftLogger } from './env.js';

/**
 * No-reply codes that mean the peer (or this side) refused the call, rather than the network
 * losing it: resending the same RPC gets the same answer. The leader still retries (its next
 * heartbeat or probe is a new RPC), so these are logged, once, instead of retried in silence.
 * The names are transport's (`noReplyKind(code) === 'refused'`); raft has no dependency on it.
 */
const REFUSED_CODES: ReadonlySet<string> = new Set([
  'AUTH_FAILED',
  'UNKNOWN_METHOD',
  'BAD_ARGUMENTS',
  'HANDLER_ERROR',
  'REPLY_TOO_LARGE',
  'BAD_FRAME',
]);

/** What a peer call ended in, as far as refusals go. */
export type SendOutcome =
  | { readonly kind: 'answered' }
  | { readonly kind: 'lost' }
  | { readonly kind: 'refused'; readonly cause: string };

/** Classifies a settled call: a valid reply, a network loss, or a refusal with its cause. */
export function sendOutcome(
  result: { readonly ok: boolean; readonly reply?: unknown },
  replyIsValid: boolean,
): SendOutcome {
  if (result.ok) {
    return replyIsValid
      ? { kind: 'answered' }
      : { kind: 'refused', cause: 'the reply does not have the expected shape' };
  }
  const { code, message } = result as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && REFUSED_CODES.has(code)) {
    return { kind: 'refused', cause: typeof message === 'string' ? `${code}: ${message}` : code };
  }
  return { kind: 'lost' };
}

/**
 * Logs a refused send once per peer, method and cause, until that peer answers again: a
 * snapshot chunk over the frame limit or a peer that rejects our shapes shows up as one line,
 * not one per heartbeat, and not never.
 */
export class RefusedSends {
  readonly #logger: RaftLogger | undefined;
  readonly #me: number;
  readonly #reported = new Map<number, Set<string>>();

  constructor(me: number, logger: RaftLogger | undefined) {
    this.#me = me;
    this.#logger = logger;
  }

  refused(to: number, method: string, cause: string): void {
    let seen = this.#reported.get(to);
    if (seen === undefined) {
      seen = new Set();
      this.#reported.set(to, seen);
    }
    const key = `${method}\u0000${cause}`;
    if (seen.has(key)) return;
    seen.add(key);
    this.#logger?.warn({ me: this.#me, to, method, cause }, 'raft: peer call refused');
  }

  answered(to: number): void {
    this.#reported.delete(to);
  }
}

/** A rejected call (the end threw: an unencodable message, a frame over the limit), as a cause. */
export function rejectionCause(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
