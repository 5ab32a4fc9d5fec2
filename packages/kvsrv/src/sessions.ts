/** How the server should treat a Put/Append from a clerk, given what it remembers. */
export type Arrival = 'new' | 'duplicate' | 'stale';

/**
 * The duplicate table: per clerk, the sequence number of its latest Put/Append, and, while the
 * clerk may still be retrying an Append, the old value that Append answered.
 *
 * Invariant: `#appendReply` holds an entry only for a clerk whose latest request is an Append
 * it has not yet acknowledged. A clerk has one request in flight, so any later request (or a
 * Get carrying its acknowledgement) proves it saw that reply, and the entry goes. Gets never
 * add state; a Put leaves one map entry of two numbers.
 */
export class Sessions {
  readonly #lastSeq = new Map<number, number>();
  readonly #appendReply = new Map<number, string>();

  arrival(clientId: number, seq: number): Arrival {
    const last = this.#lastSeq.get(clientId) ?? 0;
    if (seq > last) return 'new';
    return seq === last ? 'duplicate' : 'stale';
  }

  /** Records that request `seq` (a Put, or an Append that answered `old`) was applied. */
  applied(clientId: number, seq: number, old?: string): void {
    this.#lastSeq.set(clientId, seq);
    if (old === undefined) this.#appendReply.delete(clientId);
    else this.#appendReply.set(clientId, old);
  }

  /** The old value the clerk's latest Append answered, if it has not acknowledged it. */
  appendReply(clientId: number): string | undefined {
    return this.#appendReply.get(clientId);
  }

  /** The clerk has seen the replies to its requests up to `seq`: forget the one kept for them. */
  acknowledge(clientId: number, seq: number): void {
    if (this.#appendReply.has(clientId) && (this.#lastSeq.get(clientId) ?? 0) <= seq)
      this.#appendReply.delete(clientId);
  }

  get clients(): number {
    return this.#lastSeq.size;
  }

  get cachedReplies(): number {
    return this.#appendReply.size;
  }
}
