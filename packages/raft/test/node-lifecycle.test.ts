/**
 * RaftNode's lifecycle (docs/DESIGN.md, "Lifecycle"): `close()` is idempotent, refuses new work
 * at once, rejects work in flight with NodeKilledError, resolves once the tick timer is cleared
 * and a persist in flight has settled, and leaves the persister it was given open. Everything
 * runs on a VirtualClock that is never advanced: only promise turns pass.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeKilledError } from '../src/errors.js';
import { FilePersister } from '../src/persister/file-persister.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import {
  appendFromLeader,
  HeldPersister,
  makeNode,
  recordingLogger,
  settled,
} from './support/node-fixtures.js';

describe('RaftNode.close', () => {
  it('is idempotent: every call, and kill(), share the first close; the tick timer is cleared', async () => {
    const { clock, node: creating } = makeNode(new MemoryPersister());
    const node = await creating;
    expect(clock.pendingTimers).toBe(1);
    const first = node.close();
    expect(node.close()).toBe(first);
    node.kill();
    expect(node.close()).toBe(first);
    expect(node.killed).toBe(true);
    await first;
    expect(clock.pendingTimers).toBe(0);
    await expect(node.close()).resolves.toBeUndefined();
  });

  it('refuses new work at once: start proposes nothing, readIndex and RPCs reject with NodeKilledError', async () => {
    const { node: creating } = makeNode(new MemoryPersister());
    const node = await creating;
    const closing = node.close();
    expect(node.start('late')).toEqual({ index: -1, term: 0, isLeader: false });
    await expect(node.readIndex()).rejects.toBeInstanceOf(NodeKilledError);
    await expect(node.service.AppendEntries(appendFromLeader)).rejects.toMatchObject({
      code: 'ERR_KILLED',
    });
    await expect(
      node.service.RequestVote({ term: 5, candidateId: 1, lastLogIndex: 0, lastLogTerm: 0 }),
    ).rejects.toBeInstanceOf(NodeKilledError);
    node.snapshot(0, new Uint8Array([1]));
    await closing;
  });

  it('rejects work in flight with NodeKilledError, and resolves only once the persist in flight settles', async () => {
    const persister = new HeldPersister();
    const applied: unknown[] = [];
    const { node: creating } = makeNode(persister, { onApply: (msg) => applied.push(msg) });
    const node = await creating;
    const reply = node.service.AppendEntries(appendFromLeader);
    const read = node.readIndex();
    reply.catch(() => {});
    read.catch(() => {});
    expect(await settled(reply)).toBe(false);
    expect(persister.held).toHaveLength(1);

    const closing = node.close();
    await expect(reply).rejects.toBeInstanceOf(NodeKilledError);
    await expect(read).rejects.toBeInstanceOf(NodeKilledError);
    expect(await settled(closing)).toBe(false);

    persister.held[0]?.release();
    await closing;
    // The save completed on the persister; the node acted on nothing after it.
    expect(persister.load()?.entries).toEqual([{ term: 1, command: 'x' }]);
    expect(persister.held).toHaveLength(1);
    expect(applied).toEqual([]);
  });

  it('resolves, without throwing, when the persist in flight fails; that failure is logged, not fatal', async () => {
    const persister = new HeldPersister();
    const fatal: unknown[] = [];
    const logger = recordingLogger();
    const { node: creating } = makeNode(persister, {
      onFatal: (err) => fatal.push(err),
      logger,
    });
    const node = await creating;
    const reply = node.service.AppendEntries(appendFromLeader);
    reply.catch(() => {});
    expect(await settled(reply)).toBe(false);
    expect(persister.held).toHaveLength(1);
    const closing = node.close();
    persister.held[0]?.fail(new Error('disk gone'));
    await expect(closing).resolves.toBeUndefined();
    // close() was asked for: nothing stopped on its own, so onFatal (which may restart the
    // node) stays silent; the failure is still reported.
    expect(fatal).toEqual([]);
    expect(logger.lines).toEqual([
      {
        level: 'warn',
        fields: { me: 0, error: 'Error: disk gone' },
        message: 'raft: persist failed after close',
      },
    ]);
  });

  it('leaves the persister it was given open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flotilla-raft-lifecycle-'));
    try {
      const persister = await FilePersister.open(dir);
      const { node: creating } = makeNode(persister);
      await (await creating).close();
      await persister.save({ hardState: { term: 3, votedFor: null } });
      expect(persister.load()?.hardState).toEqual({ term: 3, votedFor: null });
      await persister.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a node that stops on its own', () => {
  it('a failed persist stops it: onFatal once, killed, pending work rejected, close() resolves', async () => {
    const persister = new HeldPersister();
    const fatal: unknown[] = [];
    const { node: creating } = makeNode(persister, { onFatal: (err) => fatal.push(err) });
    const node = await creating;
    const reply = node.service.AppendEntries(appendFromLeader);
    reply.catch(() => {});
    expect(await settled(reply)).toBe(false);
    const error = new Error('fsync failed');
    persister.held[0]?.fail(error);
    await expect(reply).rejects.toBeInstanceOf(NodeKilledError);
    expect(fatal).toEqual([error]);
    expect(node.killed).toBe(true);
    await expect(node.close()).resolves.toBeUndefined();
    expect(fatal).toHaveLength(1);
  });
});
