import { chooseSeed } from '@flotilla/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { committedIndex, hasQuorum, majority, voteResult } from '../src/core/quorum.js';

const SEED = chooseSeed(20260217);

/** Brute force: the largest k that at least a majority of the match indexes reach (0 if none). */
function committedByDefinition(matchIndexes: readonly number[]): number {
  const need = Math.floor(matchIndexes.length / 2) + 1;
  let best = 0;
  for (const k of matchIndexes) {
    if (matchIndexes.filter((m) => m >= k).length >= need && k > best) best = k;
  }
  return best;
}

/** Brute force over every way the servers not yet heard from could still answer. */
function voteByDefinition(voters: number, granted: number, rejected: number) {
  const need = Math.floor(voters / 2) + 1;
  const missing = voters - granted - rejected;
  const outcomes = new Set<boolean>();
  for (let more = 0; more <= missing; more++) outcomes.add(granted + more >= need);
  if (!outcomes.has(false)) return 'won';
  if (!outcomes.has(true)) return 'lost';
  return 'pending';
}

describe('quorum: majority arithmetic', () => {
  it.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
    [6, 4],
    [7, 4],
  ])('a majority of %i servers is %i', (voters, expected) => {
    expect(majority(voters)).toBe(expected);
    expect(hasQuorum(voters, expected)).toBe(true);
    expect(hasQuorum(voters, expected - 1)).toBe(false);
  });

  it.each([
    // voters, granted, rejected, result
    [1, 1, 0, 'won'],
    [3, 1, 0, 'pending'],
    [3, 2, 0, 'won'],
    [3, 1, 1, 'pending'],
    [3, 1, 2, 'lost'],
    [3, 0, 2, 'lost'],
    [4, 2, 1, 'pending'],
    [4, 2, 2, 'lost'],
    [4, 3, 1, 'won'],
    [5, 2, 2, 'pending'],
    [5, 2, 3, 'lost'],
    [5, 3, 2, 'won'],
  ] as const)(
    'voteResult(%i voters, %i granted, %i refused) is %s',
    (voters, granted, rejected, result) => {
      expect(voteResult(voters, granted, rejected)).toBe(result);
    },
  );

  it.each([
    [[5], 5],
    [[5, 3], 3],
    [[5, 3, 1], 3],
    [[1, 3, 5], 3],
    [[5, 5, 0, 0], 0],
    [[5, 5, 4, 0], 4],
    [[7, 2, 9, 2, 2], 2],
    [[7, 3, 9, 2, 2], 3],
    [[0, 0, 0], 0],
  ])('committedIndex(%j) is %i', (matchIndexes, expected) => {
    expect(committedIndex(matchIndexes)).toBe(expected);
  });

  it('committedIndex agrees with its definition: the largest index a majority holds', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 20 }), { minLength: 1, maxLength: 9 }), (matches) => {
        expect(committedIndex(matches)).toBe(committedByDefinition(matches));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('voteResult agrees with its definition over every possible remaining answer', () => {
    const tally = fc
      .integer({ min: 1, max: 9 })
      .chain((voters) =>
        fc
          .integer({ min: 0, max: voters })
          .chain((granted) =>
            fc.tuple(
              fc.constant(voters),
              fc.constant(granted),
              fc.integer({ min: 0, max: voters - granted }),
            ),
          ),
      );
    fc.assert(
      fc.property(tally, ([voters, granted, rejected]) => {
        expect(voteResult(voters, granted, rejected)).toBe(
          voteByDefinition(voters, granted, rejected),
        );
      }),
      { seed: SEED + 1, numRuns: 2000 },
    );
  });
});
