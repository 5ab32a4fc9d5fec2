/**
 * The proposal table: a proposal gets its entry's outcome only if the entry applied at its
 * index has its term; anything else there, a snapshot over it, or a change of term or role
 * makes it LeadershipLost (outcome unknown).
 */
import { describe, expect, it } from 'vitest';
import { LeadershipLostError } from '../src/index.js';
import { Proposals } from '../src/proposals.js';

function recorder(term: number) {
  const events: string[] = [];
  return {
    events,
    proposal: {
      term,
      applied: (o: { ok: boolean }) => events.push(`applied ${o.ok}`),
      lost: (err: LeadershipLostError) => {
        expect(err).toBeInstanceOf(LeadershipLostError);
        events.push(`lost ${err.index}@${err.term}`);
      },
    },
  };
}

describe('Proposals', () => {
  it('settles a proposal by the entry applied at its index', () => {
    const proposals = new Proposals();
    const mine = recorder(2);
    const overwritten = recorder(2);
    proposals.add(5, mine.proposal);
    proposals.add(6, overwritten.proposal);
    proposals.applied(5, 2, { ok: true, result: 'r' });
    proposals.applied(6, 3, { ok: true, result: 'someone else' });
    expect(mine.events).toEqual(['applied true']);
    expect(overwritten.events).toEqual(['lost 6@2']);
    expect(proposals.size).toBe(0);
  });

  it('loses a proposal to a no-op at its index, a snapshot over it, or a new proposal there', () => {
    const proposals = new Proposals();
    const [a, b, c, d] = [recorder(1), recorder(1), recorder(1), recorder(1)];
    proposals.add(1, a.proposal);
    proposals.add(2, b.proposal);
    proposals.add(3, c.proposal);
    proposals.applied(1, 1, undefined);
    proposals.restored(2);
    proposals.add(3, d.proposal);
    expect([a.events, b.events, c.events, d.events]).toEqual([
      ['lost 1@1'],
      ['lost 2@1'],
      ['lost 3@1'],
      [],
    ]);
  });

  it('loses every proposal of another term, and all of them once this server is not leader', () => {
    const proposals = new Proposals();
    const [old, current] = [recorder(1), recorder(2)];
    proposals.add(1, old.proposal);
    proposals.add(2, current.proposal);
    proposals.leadershipChanged(2, true);
    expect([old.events, current.events]).toEqual([['lost 1@1'], []]);
    proposals.leadershipChanged(2, false);
    expect(current.events).toEqual(['lost 2@2']);
  });
});
