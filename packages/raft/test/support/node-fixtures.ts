/**
 * What the node tests share: a peer that never answers, a persister whose saves wait for the
 * test, a leader's AppendEntries, a logger that records, and a way to let promise turns pass.
 * Nothing here touches a real timer: a node's VirtualClock moves only when a test moves it.
 */
import { VirtualClock } from '@flotilla/transport';
import type { AppendEntriesArgs, LogEntry } from '../../src/core/messages.js';
import type { RaftClientEnd, RaftLogger } from '../../src/env.js';
import { RaftNode, type RaftNodeOptions } from '../../src/node.js';
import { MemoryPersister } from '../../src/persister/memory-persister.js';
import type { PersistedState, Persister, PersistUpdate } from '../../src/persister/persister.js';

/** A peer that never answers: nothing the node sends ever completes. */
export const silentPeer: RaftClientEnd = { call: () => new Promise(() => {}) };

/** A persister whose saves wait until the test releases (or fails) them. */
export class HeldPersister implements Persister {
  readonly saved = new MemoryPersister();
  readonly held: { release(): void; fail(error: Error): void }[] = [];

  load(): PersistedState | undefined {
    return this.saved.load();
  }

  save(update: PersistUpdate): Promise<void> {
    return new Promise((resolve, reject) => {
      this.held.push({
        release: () => {
          this.saved.save(update);
          resolve();
        },
        fail: reject,
      });
    });
  }

  raftStateSize(): number {
    return this.saved.raftStateSize();
  }

  snapshotSize(): number {
    return this.saved.snapshotSize();
  }
}

/** Node 0 of three; its peers never answer and its clock never moves unless a test moves it. */
export function makeNode(persister: Persister, extra: Partial<RaftNodeOptions> = {}) {
  const clock = new VirtualClock();
  const node = RaftNode.create({
    me: 0,
    peers: [null, silentPeer, silentPeer],
    persister,
    clock,
    random: { int: () => 0 },
    ...extra,
  });
  return { clock, node };
}

/** An AppendEntries from leader 1 of `term`, after (prevLogIndex, prevLogTerm). */
export function appendFrom(
  prevLogIndex: number,
  prevLogTerm: number,
  entries: readonly LogEntry[],
  leaderCommit: number,
  term = 1,
): AppendEntriesArgs {
  return { term, leaderId: 1, prevLogIndex, prevLogTerm, entries: [...entries], leaderCommit };
}

/** An AppendEntries from leader 1 of term 1 carrying one entry: the follower must persist it. */
export const appendFromLeader: AppendEntriesArgs = appendFrom(0, 0, [{ term: 1, command: 'x' }], 0);

/** Lets every pending promise turn run (the node's Ready loop and deliveries are microtasks). */
export async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

/** Whether `promise` has settled once every pending promise turn has run. */
export async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await turns();
  return done;
}

export interface LogRecord {
  readonly level: 'warn' | 'info';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A RaftLogger that keeps every line. */
export function recordingLogger(): RaftLogger & { readonly lines: LogRecord[] } {
  const lines: LogRecord[] = [];
  return {
    lines,
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
  };
}
