import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFloor, runFloor } from '../src/bench/floor.js';

/** Stands in for ws-echo.mjs: one --json line per in-flight level it is given. */
const FAKE_FLOOR = `
const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
const ns = arg('--n').split(',').map(Number);
arg('--inflight').split(',').map(Number).forEach((inflight, i) => {
  if (inflight === 13) return; // prints nothing for 13
  const n = ns[Math.min(i, ns.length - 1)];
  console.log(JSON.stringify({ transport: 'ws', inflight, n, req_bytes: 310, seconds: 1,
    rtt_per_s: n, p50_us: 20, p99_us: 90, client_cpu_pct: 50 }));
});
`;

let dir: string;
let fake: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'devkit-floor-'));
  fake = path.join(dir, 'fake-floor.mjs');
  await writeFile(fake, FAKE_FLOOR);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the floor', () => {
  it('is optional: skipped on request, or not found (the repository works without ../shared)', () => {
    expect(findFloor(undefined, true)).toMatchObject({
      found: false,
      why: 'floor skipped (--no-floor)',
    });
    const missing = findFloor(path.join(dir, 'nope.mjs'), false);
    expect(missing).toMatchObject({
      found: false,
      why: expect.stringMatching(/^floor not found at /),
    });
    expect(findFloor(fake, false)).toEqual({ found: true, path: fake });
  });

  it('runs the script and returns one line per level', async () => {
    const lines = await runFloor({
      floorPath: fake,
      modulesDir: dir,
      inflight: [1, 64],
      n: [100, 2000],
      maxSeconds: 1,
      budgetMs: 10_000,
    });
    expect(lines.map((l) => [l.inflight, l.n])).toEqual([
      [1, 100],
      [64, 2000],
    ]);
  });

  it('rejects when a level has no result', async () => {
    await expect(
      runFloor({
        floorPath: fake,
        modulesDir: dir,
        inflight: [1, 13],
        n: [10],
        maxSeconds: 1,
        budgetMs: 10_000,
      }),
    ).rejects.toThrow('floor printed no result for 13');
  });
});
