import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/paths.js';
import { Procs } from '../src/proc/procs.js';
import { parseStressArgs, selectScenarios } from '../src/stress/args.js';

const procs = new Procs();
afterEach(() => procs.killAll());

/** The fixture's `stress` script, as a package runs it: under the tsx CLI, workers and all. */
async function stress(...args: string[]): Promise<{ code: number | null; stdout: string }> {
  const main = fileURLToPath(new URL('./fixtures/stress-main.ts', import.meta.url));
  const tsx = path.join(REPO_ROOT, 'node_modules/.bin/tsx');
  const proc = procs.spawn('stress', tsx, [main, ...args], { limitMs: 30_000 });
  const exit = await proc.exited;
  return { code: exit.code, stdout: proc.stdout };
}

describe('stress arguments', () => {
  it('parses flags, also as --flag=value, and refuses the rest', () => {
    expect(parseStressArgs([])).toEqual({
      seeds: 100,
      from: 1,
      jobs: 2,
      only: undefined,
      timeoutMs: 120_000,
    });
    expect(
      parseStressArgs(['--', '--seeds', '5', '--from=3', '--jobs', '1', '--only', 'A,B']),
    ).toMatchObject({ seeds: 5, from: 3, jobs: 1, only: 'A,B' });
    expect(() => parseStressArgs(['--seeds', '0'])).toThrow('--seeds needs a positive integer');
    expect(() => parseStressArgs(['--seed', '1'])).toThrow('unknown argument --seed');
  });

  it('selects exact names in the order given, else by regular expression', () => {
    const names = ['Basic4A', 'Speed4A', 'Speed4B'];
    expect(selectScenarios(names, undefined)).toEqual(names);
    expect(selectScenarios(names, 'Speed4B,Basic4A')).toEqual(['Speed4B', 'Basic4A']);
    expect(selectScenarios(names, '^Speed')).toEqual(['Speed4A', 'Speed4B']);
    expect(() => selectScenarios(names, 'Figure8')).toThrow('--only Figure8 matches no scenario');
  });
});

describe('runStress', () => {
  // The limit also counts a fresh worker's start (tsx, the registry): 4 s leaves room for a
  // busy machine.
  it('reports every kind of failure with its seed, replaces the worker, and exits 1', async () => {
    const { code, stdout } = await stress('--seeds', '3', '--jobs', '2', '--timeout-ms', '4000');
    expect(code).toBe(1);
    expect(stdout).toMatch(/^stress: 5 scenario\(s\) × seeds 1\.\.3, 2 job\(s\)$/m);
    expect(stdout).toMatch(/^ok {3}Passes {10}3\/3 passed .* s wall, max 3\.0 s virtual$/m);
    expect(stdout).toContain('  FAIL FailsOnSeed2 seed 2: Error: bad seed\n');
    expect(stdout).toContain('  FAIL HangsOnSeed2 seed 2: no result after 4 s of wall time');
    expect(stdout).toContain('  FAIL ExitsOnSeed2 seed 2: worker exited with code 7');
    expect(stdout).toContain(
      '  FAIL CrashesOnSeed2 seed 2: worker crashed: RangeError: outside the run',
    );
    // The other seeds of each failing scenario passed, on fresh workers where needed.
    expect(stdout.match(/^FAIL \S+ +2\/3 passed/gm)).toHaveLength(4);
    expect(stdout).toContain('\nfailures:\n');
    expect(stdout).toMatch(
      /stress: 11\/15 runs passed, 4 failed \(5 scenario\(s\) × 3 seed\(s\), /,
    );
    expect(stdout).not.toContain('not quiet');
  }, 40_000);

  it('exits 0 when every run passes, and 2 on a bad argument', async () => {
    const passed = await stress('--only', 'Passes,FailsOnSeed2', '--from', '3', '--seeds', '2');
    expect(passed.code).toBe(0);
    expect(passed.stdout).toContain('stress: 4/4 runs passed, 0 failed');
    expect((await stress('--only', 'Nope')).code).toBe(2);
  }, 40_000);
});
