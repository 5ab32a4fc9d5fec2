import type { InstallSnapshotArgs, InstallSnapshotReply } from './messages.js';

/**
 * InstallSnapshot in chunks (Figure 13 of the extended paper): the leader sends its snapshot
 * as bytes `offset … offset + data.length`, one chunk at a time and in order, `done` on the
 * last; the follower assembles them and installs the whole on `done`. Chunks keep every RPC
 * well under a transport's frame limit, and a slow transfer never holds up the heartbeats
 * sent between its chunks.
 *
 * The follower's answer steers the leader: `done` (it holds the snapshot now, or its log
 * already covered it), or `nextOffset`, the byte it wants next. That is the end of the chunk
 * it just took; where its partial snapshot ends, if a chunk was lost or came twice (resume);
 * or 0, if it holds nothing of this snapshot (start over: it restarted, or a new leader or a
 * new snapshot began a transfer of its own).
 */

/** The leader's transfer of one snapshot to one follower (held by its Progress). */
export class OutgoingSnapshot {
  /** The snapshot's point in the log, and its bytes (fixed for the whole transfer). */
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
  readonly #chunkBytes: number;
  readonly #retryTicks: number;
  /** The byte the next chunk starts at. */
  #offset = 0;
  /** The offset of the chunk in flight, if one is. */
  #inflight: number | undefined;
  /** Ticks since the chunk in flight was sent. */
  #inflightTicks = 0;

  /** A chunk unanswered for `retryTicks` ticks is presumed lost (see `tick`). */
  constructor(
    index: number,
    term: number,
    data: Uint8Array,
    options: { readonly chunkBytes: number; readonly retryTicks: number },
  ) {
    this.index = index;
    this.term = term;
    this.data = data;
    this.#chunkBytes = options.chunkBytes;
    this.#retryTicks = options.retryTicks;
  }

  /** Nothing of it has been acknowledged and nothing is in flight: it may as well be replaced. */
  get atStart(): boolean {
    return this.#offset === 0 && this.#inflight === undefined;
  }

  /**
   * One tick. A chunk unanswered for `retryTicks` is presumed lost and may be sent again: a
   * transport can take long to report a lost call (the lab's network up to 7 s), and waiting
   * for that would stall the transfer long after the follower is reachable again. A chunk
   * that arrives twice is harmless: the follower asks to resume where its copy ends.
   */
  tick(): void {
    if (this.#inflight !== undefined && ++this.#inflightTicks >= this.#retryTicks) this.lost();
  }

  /** The next chunk's arguments, or undefined while a chunk is in flight (one at a time). */
  nextChunk(term: number, leaderId: number): InstallSnapshotArgs | undefined {
    if (this.#inflight !== undefined) return undefined;
    const offset = this.#offset;
    const end = Math.min(this.data.length, offset + this.#chunkBytes);
    this.#inflight = offset;
    this.#inflightTicks = 0;
    return {
      term,
      leaderId,
      lastIncludedIndex: this.index,
      lastIncludedTerm: this.term,
      offset,
      data: this.data.subarray(offset, end),
      done: end === this.data.length,
    };
  }

  /** Whether `args` is the chunk in flight: only its outcome moves the transfer. */
  isInflight(args: InstallSnapshotArgs): boolean {
    return (
      this.#inflight === args.offset &&
      args.lastIncludedIndex === this.index &&
      args.lastIncludedTerm === this.term
    );
  }

  /** The follower answered the chunk in flight without `done`: go on where it asks. */
  continueAt(nextOffset: number): void {
    this.#inflight = undefined;
    // An offset past the end cannot be right: start over.
    this.#offset = nextOffset <= this.data.length ? nextOffset : 0;
  }

  /** The chunk in flight got no answer, or is presumed lost: it goes again (next heartbeat). */
  lost(): void {
    this.#inflight = undefined;
  }
}

/** A snapshot being assembled on a follower, from chunks of one leader's term. */
interface PartialSnapshot {
  readonly leaderTerm: number;
  readonly index: number;
  readonly term: number;
  readonly chunks: Uint8Array[];
  size: number;
}

/** The follower's side: the chunks received so far of the snapshot being sent to it. */
export class IncomingSnapshot {
  #partial: PartialSnapshot | undefined;

  /**
   * A chunk from the leader of `args.term` (the current term), on a follower whose log is
   * committed through `commitIndex`. Returns the reply's `done` and `nextOffset` and, once the
   * last chunk completes the snapshot in order, its bytes, for the caller to install.
   *
   * A partial snapshot is kept only while chunks of that same snapshot (same leader term,
   * index and term) arrive: a chunk of another one discards it. One that does not start where
   * the partial ends (a chunk lost, or delivered twice) changes nothing and asks to resume.
   */
  receive(
    args: InstallSnapshotArgs,
    commitIndex: number,
  ): Omit<InstallSnapshotReply, 'term'> & { readonly data?: Uint8Array } {
    const same = this.#isOf(args);
    if (args.lastIncludedIndex <= commitIndex) {
      // Everything it covers is committed here already: nothing to install.
      if (same) this.#partial = undefined;
      return { done: true, nextOffset: 0 };
    }
    if (!same) {
      this.#partial = undefined;
      if (args.offset !== 0) return { done: false, nextOffset: 0 };
      this.#partial = {
        leaderTerm: args.term,
        index: args.lastIncludedIndex,
        term: args.lastIncludedTerm,
        chunks: [],
        size: 0,
      };
    }
    const partial = this.#partial as PartialSnapshot;
    if (args.offset !== partial.size) return { done: false, nextOffset: partial.size };
    partial.chunks.push(args.data);
    partial.size += args.data.length;
    if (!args.done) return { done: false, nextOffset: partial.size };
    this.#partial = undefined;
    return { done: true, nextOffset: 0, data: concat(partial.chunks, partial.size) };
  }

  /** Drops a partial snapshot (the term changed: no chunk of it can come any more). */
  discard(): void {
    this.#partial = undefined;
  }

  #isOf(args: InstallSnapshotArgs): boolean {
    const p = this.#partial;
    return (
      p !== undefined &&
      p.leaderTerm === args.term &&
      p.index === args.lastIncludedIndex &&
      p.term === args.lastIncludedTerm
    );
  }
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const data = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    data.set(chunk, at);
    at += chunk.length;
  }
  return data;
}
