import { decode, encode } from '@flotilla/transport';
import type { ApplyMsg } from '../../src/index.js';

/** The snapshotting applier snapshots after every index i with (i + 1) % 10 === 0. */
export const SNAPSHOT_INTERVAL = 10;

/** What a snapshotting applier needs from its node. */
export interface Snapshotter {
  snapshot(index: number, data: Uint8Array): void;
}

/** True when two applied commands are the same value (commands cross the wire, so compare encodings). */
export function sameCommand(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return encode(a).equals(encode(b));
}

/** The service state a snapshot holds: the applied log `0 … lastIncludedIndex` (index 0 is null). */
interface SnapshotState {
  readonly lastIncludedIndex: number;
  readonly log: readonly unknown[];
}

function isSnapshotState(value: unknown): value is SnapshotState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<SnapshotState>;
  return (
    typeof v.lastIncludedIndex === 'number' &&
    Array.isArray(v.log) &&
    v.log.length === v.lastIncludedIndex + 1
  );
}

/**
 * The lab's view of what every server applied (`cfg.logs`, `cfg.lastApplied`, `cfg.applyErr`)
 * and its two appliers. Appliers never throw into Raft: a violation is recorded in `applyErr`
 * and the harness's next check (or sleep) fails the test with it.
 */
export class AppliedLogs {
  /** logs[i]: index → command as server i applied it (survives restarts, like the lab's). */
  readonly logs: Map<number, unknown>[];
  readonly lastApplied: number[];
  readonly applyErr: (string | undefined)[];
  /** The highest index any server applied (the "cmds" column of the Passed line). */
  maxIndex = 0;

  constructor(n: number) {
    this.logs = Array.from({ length: n }, () => new Map<number, unknown>());
    this.lastApplied = new Array<number>(n).fill(0);
    this.applyErr = new Array<string | undefined>(n).fill(undefined);
  }

  /** The first applier error, as the lab's `nCommitted` reports it. */
  firstError(): string | undefined {
    return this.applyErr.find((e) => e !== undefined);
  }

  /** Records a command applied by server i; returns an error string (or '') and whether i applied index-1. */
  checkLogs(i: number, index: number, command: unknown): { errMsg: string; prevOk: boolean } {
    let errMsg = '';
    this.logs.forEach((log, j) => {
      if (log.has(index) && !sameCommand(log.get(index), command)) {
        errMsg =
          `commit index=${index} server=${i} ${show(command)} != ` +
          `server=${j} ${show(log.get(index))}`;
      }
    });
    const log = this.logs[i] as Map<number, unknown>;
    const prevOk = log.has(index - 1);
    log.set(index, command);
    if (index > this.maxIndex) this.maxIndex = index;
    return { errMsg, prevOk };
  }

  /**
   * Replaces server i's view with a snapshot's. `index` is the apply message's snapshot index,
   * or -1 to skip the index check (the lab's start1 reads the snapshot from the persister, with
   * no index; this harness gets it as an apply message). Returns '' or an error.
   */
  ingestSnap(i: number, snapshot: Uint8Array | undefined, index: number): string {
    if (snapshot === undefined || snapshot.length === 0) return `server ${i}: empty snapshot`;
    let state: unknown;
    try {
      state = decode(snapshot);
    } catch (err) {
      return `server ${i}: snapshot decode error: ${(err as Error).message}`;
    }
    if (!isSnapshotState(state)) return `server ${i}: snapshot decode error: bad shape`;
    if (index !== -1 && index !== state.lastIncludedIndex) {
      return (
        `server ${i} snapshot doesn't match the apply message's snapshot index ` +
        `(message ${index}, snapshot ${state.lastIncludedIndex})`
      );
    }
    this.logs[i] = new Map(state.log.map((command, j) => [j, command]));
    this.lastApplied[i] = state.lastIncludedIndex;
    return '';
  }

  /** The lab's `applier`: checks each command against the other servers and the order. */
  plain(i: number): (msg: ApplyMsg) => void {
    return (msg) => {
      if (msg.type !== 'command') return;
      let { errMsg, prevOk } = this.checkLogs(i, msg.index, msg.command);
      if (msg.index > 1 && !prevOk) errMsg = `server ${i} apply out of order ${msg.index}`;
      if (errMsg !== '') this.#record(i, errMsg);
    };
  }

  /**
   * The lab's `applierSnap`: indexes must be exactly lastApplied + 1; every SnapShotInterval
   * entries it hands the node a snapshot of the applied log; a snapshot message replaces its
   * view. `node()` is undefined until `RaftNode.create` resolves: a snapshot due before then is
   * handed over as soon as the node exists (see `flushPending`).
   */
  snapshotting(i: number, node: () => Snapshotter | undefined): SnapshottingApplier {
    let pending: { index: number; data: Uint8Array } | undefined;
    const snapshot = (index: number, data: Uint8Array): void => {
      const target = node();
      if (target === undefined) {
        pending = { index, data };
        return;
      }
      try {
        target.snapshot(index, data);
      } catch (err) {
        this.#record(i, `server ${i}: snapshot(${index}) threw: ${(err as Error).message}`);
      }
    };
    const onApply = (msg: ApplyMsg): void => {
      let errMsg = '';
      if (msg.type === 'snapshot') {
        errMsg = this.ingestSnap(i, msg.snapshot, msg.index);
      } else if (msg.type === 'noop') {
        errMsg = `server ${i}: a no-op at ${msg.index} (the lab's indexes need noopOnElection off)`;
      } else {
        const lastApplied = this.lastApplied[i] as number;
        if (msg.index !== lastApplied + 1) {
          errMsg = `server ${i} apply out of order, expected index ${lastApplied + 1}, got ${msg.index}`;
        }
        if (errMsg === '') {
          const checked = this.checkLogs(i, msg.index, msg.command);
          errMsg = checked.errMsg;
          if (msg.index > 1 && !checked.prevOk) {
            errMsg = `server ${i} apply out of order ${msg.index}`;
          }
        }
        this.lastApplied[i] = msg.index;
        if ((msg.index + 1) % SNAPSHOT_INTERVAL === 0) {
          const log = this.logs[i] as Map<number, unknown>;
          const xlog = Array.from({ length: msg.index + 1 }, (_, j) => log.get(j) ?? null);
          snapshot(msg.index, encode({ lastIncludedIndex: msg.index, log: xlog }));
        }
      }
      if (errMsg !== '') this.#record(i, errMsg);
    };
    const flushPending = (): void => {
      if (pending === undefined) return;
      const { index, data } = pending;
      pending = undefined;
      snapshot(index, data);
    };
    return { onApply, flushPending };
  }

  #record(i: number, errMsg: string): void {
    if (this.applyErr[i] === undefined) this.applyErr[i] = `apply error: ${errMsg}`;
  }
}

export interface SnapshottingApplier {
  readonly onApply: (msg: ApplyMsg) => void;
  /** Hands the node a snapshot that fell due while it was being created. */
  readonly flushPending: () => void;
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
