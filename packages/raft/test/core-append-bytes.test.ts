import { SeededRandom } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { entryBytes, fitBytes } from '../src/core/entry-bytes.js';
import type { RaftCore } from '../src/core/raft.js';
import { newCore } from './support/core-config.js';
import { ok } from './support/core-fixtures.js';
import { CoreNet } from './support/core-net.js';
import { allRequests, cycle, dataAppends, electLeader, requestsOf } from './support/core-steps.js';

const KIB = 1024;

/** Leader 0 of 3 with `maxAppendBytes`, both followers replicating at matchIndex 0. */
function leaderWithCap(maxAppendBytes: number): RaftCore {
  const leader = newCore(0, 3, { maxAppendBytes });
  const lead = electLeader(leader);
  for (const probe of requestsOf(lead, 'AppendEntries')) leader.stepResponse(probe, ok(1));
  expect(allRequests(cycle(leader))).toEqual([]);
  return leader;
}

describe('RaftCore maxAppendBytes: an AppendEntries carries no more bytes of entries than fit', () => {
  it('estimates an entry from its command: strings by UTF-8 size, bytes by length, plus a little', () => {
    const ascii = entryBytes({ term: 1, command: 'x'.repeat(1000) });
    expect(ascii).toBeGreaterThan(1000);
    expect(ascii).toBeLessThan(1100);
    expect(entryBytes({ term: 1, command: 'é'.repeat(1000) })).toBeGreaterThan(2000);
    const op = { type: 'Put', key: 'k', value: 'v'.repeat(4 * KIB), clientId: 7, seq: 1 };
    expect(entryBytes({ term: 1, command: op })).toBeGreaterThan(4 * KIB);
    expect(entryBytes({ term: 1, command: new Uint8Array(3 * KIB) })).toBeGreaterThan(3 * KIB);
    expect(entryBytes({ term: 1, command: null, noop: true })).toBeLessThan(32);
  });

  it('fits as many entries as the cap allows, and always at least one', () => {
    const entries = Array.from({ length: 10 }, () => ({ term: 1, command: 'x'.repeat(1000) }));
    const one = entryBytes(entries[0] as (typeof entries)[0]);
    expect(fitBytes(entries, 3 * one)).toBe(3);
    expect(fitBytes(entries, 3 * one - 1)).toBe(2);
    expect(fitBytes(entries, 10)).toBe(1);
    expect(fitBytes(entries, 100 * one)).toBe(10);
    expect(fitBytes([], 10)).toBe(0);
  });

  it('splits a burst of large entries into AppendEntries under the cap, in order, none skipped', () => {
    const leader = leaderWithCap(10 * KIB);
    for (let k = 0; k < 12; k++) leader.propose(`${k}:${'x'.repeat(3 * KIB)}`);
    const appends = dataAppends(cycle(leader), 1);
    expect(appends.map((r) => r.args.entries.length)).toEqual([3, 3, 3, 3]);
    expect(appends.map((r) => r.args.prevLogIndex)).toEqual([0, 3, 6, 9]);
    for (const r of appends) {
      const bytes = r.args.entries.reduce((sum, e) => sum + entryBytes(e), 0);
      expect(bytes).toBeLessThanOrEqual(10 * KIB);
    }
  });

  it('sends an entry larger than the cap alone rather than never', () => {
    const leader = leaderWithCap(4 * KIB);
    leader.propose('small');
    leader.propose('x'.repeat(64 * KIB));
    leader.propose('small again');
    const appends = dataAppends(cycle(leader), 1);
    expect(appends.map((r) => r.args.entries.length)).toEqual([1, 1, 1]);
  });

  it('a follower far behind on large entries catches up (3 servers, probe then replicate)', () => {
    const net = new CoreNet({
      n: 3,
      core: { maxAppendBytes: 8 * KIB },
      random: (i) => new SeededRandom(i + 11),
    });
    const leader = net.electLeader();
    const behind = (leader + 1) % 3;
    net.isolate(behind);
    for (let k = 0; k < 40; k++) net.propose(leader, `${k}:${'v'.repeat(2 * KIB)}`);
    net.run(20);
    net.heal();
    net.run(200);
    expect(net.applied[behind]).toEqual(net.applied[leader]);
    expect(net.applied[behind]).toHaveLength(40);
    net.checkLogMatching();
  });
});
