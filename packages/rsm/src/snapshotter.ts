import type { Persister, RaftNode } from '@flotilla/raft';
import type { Applier } from './applier.js';
import { NEVER_SNAPSHOT, snapshotDue } from './options.js';

/**
 * The snapshot rule: after each batch of applied messages, if the persister's Raft state has
 * reached `maxraftstate` bytes, hand Raft a snapshot of the state through the last applied
 * index, so it can drop the log before it. Never with `maxraftstate` -1.
 *
 * A batch is what the apply stream delivers in one synchronous run (one or more Readies): the
 * check runs one microtask after the batch's first message, when the whole batch has been
 * applied. So a snapshot is taken at most once per batch, and never twice at one index: Raft
 * state shrinks only once the next Ready has persisted the compaction, and a second snapshot
 * before that would be wasted work.
 */
export class Snapshotter {
  readonly #maxraftstate: number;
  readonly #persister: Pick<Persister, 'raftStateSize'>;
  readonly #applier: Applier;
  #node: RaftNode | undefined;
  /** The index of the latest snapshot taken or restored. */
  #snapshotIndex = 0;
  #taken = 0;
  #scheduled = false;
  #stopped = false;
  readonly #onFailure: (err: unknown) => void;

  /** `onFailure` gets what the machine's `snapshot()` threw (outside the apply stream). */
  constructor(
    maxraftstate: number,
    persister: Pick<Persister, 'raftStateSize'>,
    applier: Applier,
    onFailure: (err: unknown) => void,
  ) {
    this.#maxraftstate = maxraftstate;
    this.#persister = persister;
    this.#applier = applier;
    this.#onFailure = onFailure;
  }

  /** The node to hand snapshots to, once it exists (the restart snapshot arrives before). */
  attach(node: RaftNode): void {
    this.#node = node;
  }

  /** Snapshots this replica has handed to Raft since it started. */
  get taken(): number {
    return this.#taken;
  }

  /** A message was applied; `restoredIndex` is set when it was a snapshot. */
  afterApply(restoredIndex?: number): void {
    if (restoredIndex !== undefined) this.#snapshotIndex = restoredIndex;
    if (this.#maxraftstate === NEVER_SNAPSHOT || this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#check();
    });
  }

  stop(): void {
    this.#stopped = true;
  }

  #check(): void {
    const node = this.#node;
    const index = this.#applier.lastApplied;
    if (node === undefined || node.killed || this.#stopped || index <= this.#snapshotIndex) return;
    if (!snapshotDue(this.#maxraftstate, this.#persister.raftStateSize())) return;
    let bytes: Uint8Array;
    try {
      bytes = this.#applier.snapshot();
    } catch (err) {
      this.#stopped = true;
      this.#onFailure(err);
      return;
    }
    this.#snapshotIndex = index;
    this.#taken++;
    node.snapshot(index, bytes);
  }
}
