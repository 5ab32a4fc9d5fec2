import { VirtualClock } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { InvariantViolationError } from '../src/errors.js';
import { RaftNode } from '../src/node.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import { newCore } from './support/core-config.js';
import { appendArgs, logOf } from './support/core-fixtures.js';
import { cycle, deliver } from './support/core-steps.js';

/** A follower holding entries 1..3 of term 1, all committed (and applied). */
function committedFollower() {
  const core = newCore(1, 3);
  deliver(
    core,
    'AppendEntries',
    appendArgs({ term: 1, entries: logOf([1, 1, 1]), leaderCommit: 3 }),
  );
  expect(core.commitIndex).toBe(3);
  return core;
}

/** An AppendEntries of term 2 that matches at 1 and then disagrees with entry 2. */
const truncatingAt2 = appendArgs({
  term: 2,
  prevLogIndex: 1,
  prevLogTerm: 1,
  entries: logOf([2], 2),
  leaderCommit: 2,
});

describe('RaftCore invariant: a committed entry is never truncated', () => {
  it('an AppendEntries that would replace an entry at or below commitIndex stops the core: ready() throws InvariantViolationError, nothing changed', () => {
    const core = committedFollower();
    core.stepRequest('AppendEntries', truncatingAt2, 1);
    expect(core.hasReady()).toBe(true);
    let thrown: unknown;
    try {
      core.ready();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvariantViolationError);
    expect(thrown).toMatchObject({
      code: 'ERR_INVARIANT_VIOLATION',
      invariant: 'committed-entry-truncated',
    });
    expect((thrown as Error).message).toMatch(/entry 2 .*commitIndex 3/);
    // The log and commit index are as they were: nothing was truncated (and, since ready()
    // throws, nothing of what the core took in is ever persisted or sent).
    expect(core.lastIndex).toBe(3);
    expect(core.commitIndex).toBe(3);
    // A stopped core takes no more input and keeps throwing.
    core.stepRequest('AppendEntries', appendArgs({ term: 3, prevLogIndex: 3, prevLogTerm: 1 }), 2);
    core.tick();
    expect(core.propose('x').isLeader).toBe(false);
    expect(() => core.ready()).toThrow(InvariantViolationError);
  });

  it('replacing the entry just above commitIndex is the normal conflict rule (no violation)', () => {
    const core = newCore(1, 3);
    deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 1, entries: logOf([1, 1, 1]), leaderCommit: 1 }),
    );
    const { reply } = deliver(core, 'AppendEntries', truncatingAt2);
    expect(reply.success).toBe(true);
    expect(core.lastIndex).toBe(2);
    expect(cycle(core).apply).toEqual([]);
  });

  it('entries inside the snapshot are not compared (they are committed and match by definition)', () => {
    const core = committedFollower();
    cycle(core);
    expect(core.compact(2, new Uint8Array([1]))).toBe(true);
    const { reply } = deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: logOf([1, 1, 1, 1]) }),
    );
    expect(reply.success).toBe(true);
    expect(core.lastIndex).toBe(4);
  });

  it('a RaftNode fed such an AppendEntries stops and reports the error through onFatal', async () => {
    const fatal: unknown[] = [];
    const node = await RaftNode.create({
      me: 1,
      peers: [{ call: () => new Promise(() => {}) }, null, { call: () => new Promise(() => {}) }],
      persister: new MemoryPersister(),
      clock: new VirtualClock(),
      random: { int: () => 0 },
      onFatal: (err) => fatal.push(err),
    });
    await node.service.AppendEntries(
      appendArgs({ term: 1, entries: logOf([1, 1, 1]), leaderCommit: 3 }),
    );
    expect(node.commitIndex).toBe(3);
    const answer = node.service.AppendEntries(truncatingAt2);
    await expect(answer).rejects.toMatchObject({ code: 'ERR_KILLED' });
    expect(node.killed).toBe(true);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toBeInstanceOf(InvariantViolationError);
  });
});
