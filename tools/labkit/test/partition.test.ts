import { describe, expect, it } from 'vitest';
import { reaches } from './support/fake-kv.js';
import { type FakeCluster, run, withFakeConfig } from './support/run.js';

/** reach[i][j]: server i's end to server j delivers. */
async function reachMatrix(cfg: FakeCluster): Promise<boolean[][]> {
  const matrix: boolean[][] = [];
  for (const i of cfg.all()) {
    const row: boolean[] = [];
    for (const j of cfg.all()) row.push(await reaches(cfg.server(i), j));
    matrix.push(row);
  }
  return matrix;
}

function expected(n: number, linked: (i: number, j: number) => boolean): boolean[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => linked(i, j)));
}

describe('connectivity', () => {
  it('a new config has every server linked to every server', async () => {
    const matrix = await run('connect-all', (sim) =>
      withFakeConfig(sim, {}, (cfg) => reachMatrix(cfg)),
    );
    expect(matrix).toEqual(expected(5, () => true));
  });

  it('disconnect(i, from) cuts both directions; connect(i, to) restores both', async () => {
    await run('disconnect', (sim) =>
      withFakeConfig(sim, {}, async (cfg) => {
        cfg.disconnect(1, [3]);
        const cut = (i: number, j: number) => !((i === 1 && j === 3) || (i === 3 && j === 1));
        expect(await reachMatrix(cfg)).toEqual(expected(5, cut));
        cfg.connect(1, [3]);
        expect(await reachMatrix(cfg)).toEqual(expected(5, () => true));
      }),
    );
  });

  it('partition(p1, p2) links each side within itself only', async () => {
    await run('partition', (sim) =>
      withFakeConfig(sim, {}, async (cfg) => {
        const p1 = [0, 2, 4];
        const p2 = [1, 3];
        cfg.partition(p1, p2);
        const side = (i: number) => p1.includes(i);
        expect(await reachMatrix(cfg)).toEqual(expected(5, (i, j) => side(i) === side(j)));
        // A later partition moves servers between sides; connectAll heals.
        cfg.partition([0, 1], [2, 3, 4]);
        expect(await reachMatrix(cfg)).toEqual(expected(5, (i, j) => i < 2 === j < 2));
        cfg.connectAll();
        expect(await reachMatrix(cfg)).toEqual(expected(5, () => true));
      }),
    );
  });

  it('partition leaves clerk ends alone', async () => {
    await run('partition-clerks', (sim) =>
      withFakeConfig(sim, {}, async (cfg) => {
        const ck = cfg.makeClient();
        await ck.put('k', 'v');
        cfg.partition([1, 2, 3], [4, 0]); // the leader (0) in the minority
        expect(await ck.get('k')).toBe('v');
      }),
    );
  });
});

describe('makePartition (the lab rule)', () => {
  const cases: [string, number, number[], number[]][] = [
    ['leader 0', 0, [1, 2, 3], [4, 0]],
    ['leader 2', 2, [0, 1, 3], [4, 2]],
    ['leader 4', 4, [0, 1, 2], [3, 4]],
    ['no leader → 0', -1, [1, 2, 3], [4, 0]],
  ];
  for (const [what, leader, p1, p2] of cases) {
    it(`n = 5, ${what}: p1 = n/2+1 lowest non-leaders, p2 = the rest with the leader last`, async () => {
      const parts = await run('make-partition', (sim) =>
        withFakeConfig(sim, { leader: () => leader }, async (cfg) => {
          expect(cfg.leader()).toEqual({ found: leader >= 0, leader: Math.max(leader, 0) });
          return cfg.makePartition();
        }),
      );
      expect(parts).toEqual([p1, p2]);
    });
  }

  it('n = 7: 4 and 3; n = 3: 2 and 1', async () => {
    const [seven, three] = await run('make-partition-sizes', async (sim) => [
      await withFakeConfig(sim, { n: 7, leader: () => 3 }, async (cfg) => cfg.makePartition()),
      await withFakeConfig(sim, { n: 3, leader: () => 1 }, async (cfg) => cfg.makePartition()),
    ]);
    expect(seven).toEqual([
      [0, 1, 2, 4],
      [5, 6, 3],
    ]);
    expect(three).toEqual([[0, 2], [1]]);
  });

  it('a server that is down is never the leader', async () => {
    await run('leader-down', (sim) =>
      withFakeConfig(sim, { leader: () => 2 }, async (cfg) => {
        cfg.shutdownServer(2);
        expect(cfg.leader()).toEqual({ found: false, leader: 0 });
      }),
    );
  });
});
