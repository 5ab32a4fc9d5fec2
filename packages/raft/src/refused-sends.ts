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

/**
 * Why a call was refused: `reason` is stable from one attempt to the next (a code, or the
 * error's name), `cause` is what to log (it may hold sizes that change with every attempt).
 */
export interface Refusal {
  readonly reason: string;
  readonly cause: string;
}

/** What a peer call ended in, as far as refusals go. */
export type SendOutcome =
  | { readonly kind: 'answered' }
  | { readonly kind: 'lost' }
  | ({ readonly kind: 'refused' } & Refusal);

/** Classifies a settled call: a valid reply, a network loss, or a refusal with its cause. */
export function sendOutcome(
  result: { readonly ok: boolean; readonly reply?: unknown },
  replyIsValid: boolean,
): SendOutcome {
  if (result.ok) {
    return replyIsValid
      ? { kind: 'answered' }
      : {
          kind: 'refused',
          reason: 'BAD_REPLY',
          cause: 'the reply does not have the expected shape',
        };
  }
  const { code, message } = result as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && REFUSED_CODES.has(code)) {
    const cause = typeof message === 'string' ? `${code}: ${message}` : code;
    return { kind: 'refused', reason: code, cause };
  }
  return { kind: 'lost' };
}

/**
 * Logs a refused send once per peer, method and reason, until that peer answers that method
 * again: a snapshot chunk over the frame limit (while the same peer's heartbeats are answered)
 * or a peer that rejects our shapes shows up as one line, not one per attempt, and not never.
 */
export class RefusedSends {
  readonly #logger: RaftLogger | undefined;
  readonly #me: number;
  constructor(me: number, logger: RaftLogger | undefined) {
    this.#me = me;
    this.#logger = logger;
  }

  readonly #reported = new Map<string, Set<string>>();

  refused(to: number, method: string, refusal: Refusal): void {
    const key = `${to}\u0000${method}`;
    let reasons = this.#reported.get(key);
    if (reasons === undefined) {
      reasons = new Set();
      this.#reported.set(key, reasons);
    }
    if (reasons.has(refusal.reason)) return;
    reasons.add(refusal.reason);
    const { cause } = refusal;
    this.#logger?.warn({ me: this.#me, to, method, cause }, 'raft: peer call refused');
  }

  answered(to: number, method: string): void {
    this.#reported.delete(`${to}\u0000${method}`);
  }
}

/** A rejected call (the end threw: an unencodable message, a frame over the limit). */
export function rejection(err: unknown): Refusal {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string'
      ? { reason: code, cause: `${code}: ${err.message}` }
      : { reason: err.name, cause: err.message };
  }
  return { reason: typeof err, cause: String(err) };
}
