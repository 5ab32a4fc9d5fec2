/**
 * The node's two subscriptions as a service sees them: the apply stream (a restarted node's
 * first message is its saved snapshot, nothing is lost to a late subscriber, a throwing apply
 * listener stops the node) and state changes (a throwing listener is logged, the node goes on).
 * Everything runs on a VirtualClock that is never advanced: only promise turns pass.
 */
import { describe, expect, it } from 'vitest';
import type { ApplyMsg } from '../src/core/ready.js';
import { ApplyListenerError, StateListenerError } from '../src/errors.js';
import type { RaftNodeState } from '../src/node.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import { appendFrom, makeNode, recordingLogger, turns } from './support/node-fixtures.js';

const SNAPSHOT = new Uint8Array([5, 5, 5]);

/** What a node saved before it crashed: term 1, a snapshot through index 5, entry 6 ('a'). */
function restartedPersister(): MemoryPersister {
  const persister = new MemoryPersister();
  persister.save({
    hardState: { term: 1, votedFor: null },
    snapshot: { index: 5, term: 1, data: SNAPSHOT },
    entries: { from: 6, entries: [{ term: 1, command: 'a' }] },
  });
  return persister;
}

const snapshotMsg: ApplyMsg = { type: 'snapshot', index: 5, term: 1, snapshot: SNAPSHOT };
const command = (index: number, cmd: unknown): ApplyMsg => ({
  type: 'command',
  index,
  term: 1,
  command: cmd,
});

/** Leader 1 appends entry 7 ('b') after entry 6 and commits through 7. */
const commitThrough7 = appendFrom(6, 1, [{ term: 1, command: 'b' }], 7);

describe('a restarted node hands its service the saved snapshot first', () => {
  it('reaches a listener subscribed right after `await RaftNode.create`, before any command', async () => {
    const node = await makeNode(restartedPersister()).node;
    const applied: ApplyMsg[] = [];
    node.onApply((msg) => applied.push(msg));
    await turns();
    expect(applied).toEqual([snapshotMsg]);

    await expect(node.service.AppendEntries(commitThrough7)).resolves.toMatchObject({
      success: true,
    });
    await turns();
    expect(applied).toEqual([snapshotMsg, command(6, 'a'), command(7, 'b')]);
    await node.close();
  });

  it('reaches options.onApply, exactly once: a later subscriber does not get it again', async () => {
    const first: ApplyMsg[] = [];
    const node = await makeNode(restartedPersister(), { onApply: (msg) => first.push(msg) }).node;
    const later: ApplyMsg[] = [];
    node.onApply((msg) => later.push(msg));
    await turns();
    expect(first).toEqual([snapshotMsg]);
    expect(later).toEqual([]);

    await node.service.AppendEntries(commitThrough7);
    await turns();
    expect(first).toEqual([snapshotMsg, command(6, 'a'), command(7, 'b')]);
    expect(later).toEqual([command(6, 'a'), command(7, 'b')]);
    await node.close();
  });

  it('holds what is applied before the first subscription, behind the snapshot, for every listener subscribed with it', async () => {
    const node = await makeNode(restartedPersister()).node;
    await node.service.AppendEntries(commitThrough7);
    await turns();
    expect(node.commitIndex).toBe(7);

    const a: ApplyMsg[] = [];
    const b: ApplyMsg[] = [];
    node.onApply((msg) => a.push(msg));
    node.onApply((msg) => b.push(msg));
    expect(a).toEqual([]); // released a microtask later, so `b` gets them too
    await turns();
    const all = [snapshotMsg, command(6, 'a'), command(7, 'b')];
    expect(a).toEqual(all);
    expect(b).toEqual(all);
    await node.close();
  });

  it('keeps holding when the first listener unsubscribes before the release', async () => {
    const node = await makeNode(restartedPersister()).node;
    const dropped: ApplyMsg[] = [];
    const unsubscribe = node.onApply((msg) => dropped.push(msg));
    unsubscribe();
    await turns();
    const applied: ApplyMsg[] = [];
    node.onApply((msg) => applied.push(msg));
    await turns();
    expect(dropped).toEqual([]);
    expect(applied).toEqual([snapshotMsg]);
    await node.close();
  });

  it('starts with the first command when nothing was snapshotted', async () => {
    const applied: ApplyMsg[] = [];
    const node = await makeNode(new MemoryPersister(), { onApply: (msg) => applied.push(msg) })
      .node;
    await node.service.AppendEntries(appendFrom(0, 0, [{ term: 1, command: 'x' }], 1));
    await turns();
    expect(applied).toEqual([command(1, 'x')]);
    await node.close();
  });

  it("brings back the service's own snapshot after a restart from a copy of the persister", async () => {
    const persister = new MemoryPersister();
    const data = new Uint8Array([1, 2, 3]);
    const before = await makeNode(persister).node;
    before.onApply((msg) => {
      if (msg.index === 3) before.snapshot(3, data);
    });
    const entries = [1, 2, 3].map((n) => ({ term: 1, command: n }));
    await before.service.AppendEntries(appendFrom(0, 0, entries, 3));
    await turns();
    await before.close();
    expect(persister.load()?.snapshot?.index).toBe(3);

    const after = await makeNode(persister.copy()).node;
    const applied: ApplyMsg[] = [];
    after.onApply((msg) => applied.push(msg));
    await turns();
    expect(applied).toEqual([{ type: 'snapshot', index: 3, term: 1, snapshot: data }]);
    await after.close();
  });
});

describe('an apply listener that throws stops the node', () => {
  it('onFatal gets an ApplyListenerError with the index and the cause; nothing more is applied', async () => {
    const boom = new Error('bad command');
    const fatal: unknown[] = [];
    const logger = recordingLogger();
    const node = await makeNode(new MemoryPersister(), {
      onFatal: (err) => fatal.push(err),
      logger,
    }).node;
    node.onApply((msg) => {
      if (msg.index === 2) throw boom;
    });
    const seen: number[] = [];
    node.onApply((msg) => seen.push(msg.index));

    const entries = [1, 2, 3].map((n) => ({ term: 1, command: n }));
    await node.service.AppendEntries(appendFrom(0, 0, entries, 3));
    await turns();

    expect(seen).toEqual([1]); // not 2 (its first listener threw) and not 3
    expect(fatal).toHaveLength(1);
    const err = fatal[0] as ApplyListenerError;
    expect(err).toBeInstanceOf(ApplyListenerError);
    expect(err).toMatchObject({ code: 'ERR_APPLY_LISTENER', index: 2, cause: boom });
    expect(node.killed).toBe(true);
    expect(node.start('late').isLeader).toBe(false);
    expect(logger.lines.map((l) => l.message)).toEqual([
      'raft: apply listener threw; stopping node',
    ]);
    await expect(node.close()).resolves.toBeUndefined();
    expect(fatal).toHaveLength(1);
  });

  it('so does one that throws on the restart snapshot', async () => {
    const fatal: unknown[] = [];
    const node = await makeNode(restartedPersister(), {
      onApply: () => {
        throw new TypeError('cannot decode');
      },
      onFatal: (err) => fatal.push(err),
    }).node;
    await turns();
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ code: 'ERR_APPLY_LISTENER', index: 5 });
    expect((fatal[0] as Error).cause).toBeInstanceOf(TypeError);
    expect(node.killed).toBe(true);
  });
});

describe('a state-change listener that throws', () => {
  it('is logged as a StateListenerError; the node keeps running and the other listeners are told', async () => {
    const fatal: unknown[] = [];
    const logger = recordingLogger();
    const applied: ApplyMsg[] = [];
    const node = await makeNode(new MemoryPersister(), {
      onFatal: (err) => fatal.push(err),
      onApply: (msg) => applied.push(msg),
      logger,
    }).node;
    const boom = new Error('metrics down');
    node.onStateChange(() => {
      throw boom;
    });
    const states: RaftNodeState[] = [];
    node.onStateChange((state) => states.push(state));

    await node.service.AppendEntries(appendFrom(0, 0, [{ term: 1, command: 'x' }], 0));
    await turns();
    expect(states).toEqual([{ term: 1, role: 'follower', leaderId: 1 }]);
    expect(node.killed).toBe(false);
    expect(fatal).toEqual([]);
    expect(logger.lines).toHaveLength(1);
    const line = logger.lines[0];
    expect(line?.message).toBe('raft: state-change listener threw; ignored');
    expect(line?.fields.err).toBeInstanceOf(StateListenerError);
    expect(line?.fields.err).toMatchObject({ code: 'ERR_STATE_LISTENER', cause: boom });

    // Still a working follower: the next append is accepted and applied.
    await expect(
      node.service.AppendEntries(appendFrom(1, 1, [{ term: 1, command: 'y' }], 2)),
    ).resolves.toMatchObject({ success: true });
    await turns();
    expect(applied).toEqual([command(1, 'x'), command(2, 'y')]);
    await node.close();
  });
});
