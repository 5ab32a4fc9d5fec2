/**
 * The chaos runner end to end, short: three real `flotilla-kvraft serve` processes (from
 * sources, through tsx), recorded clerks, and a seeded schedule of every fault kind, then the
 * checks. Real time, bounded by `durationMs` and the test's timeout; the runner ends every
 * process it started.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { formatSummary, kvraftTarget, runChaos, shardkvTarget } from '../src/index.js';

const packageDir = (name: string): string =>
  fileURLToPath(new URL(`../../${name}`, import.meta.url));
/** `flotilla-<name>` from its sources, as the process tests of each service run it. */
const fromSources = (name: string) => ({
  command: process.execPath,
  args: ['--import', 'tsx', 'src/cli.ts'],
  cwd: packageDir(name),
});
const SEED = Number(process.env.FLOTILLA_SEED ?? 20261203);

let baseDir: string | undefined;
afterEach(async () => {
  if (baseDir !== undefined) await rm(baseDir, { recursive: true, force: true });
  baseDir = undefined;
});

describe('runChaos on kvraft', () => {
  it('survives kills, pauses and partitions with a linearizable history and nothing lost', async () => {
    baseDir = await mkdtemp(join(tmpdir(), 'flotilla-chaos-run-'));
    const lines: string[] = [];
    const summary = await runChaos({
      target: kvraftTarget({
        command: fromSources('kvraft'),
        authToken: 'chaos-run-token',
        maxraftstate: 8 * 1024,
      }),
      seed: SEED,
      durationMs: 20_000,
      clerks: 3,
      keys: 2,
      holdMs: [200, 800],
      gapMs: [100, 300],
      baseDir,
      log: (line) => lines.push(line),
    });
    const report = `seed ${SEED}\n${lines.join('\n')}\n${formatSummary(summary)}`;
    console.log(report);
    expect(summary.ok, report).toBe(true);
    expect(summary.episodes).toBeGreaterThan(3);
    expect(summary.acknowledged).toBeGreaterThan(50);
  }, 90_000);
});

describe('runChaos on shardkv', () => {
  it('survives kills, pauses and partitions while shards move, with nothing lost', async () => {
    baseDir = await mkdtemp(join(tmpdir(), 'flotilla-chaos-run-'));
    const lines: string[] = [];
    const summary = await runChaos({
      target: shardkvTarget({
        ctrlerCommand: fromSources('shardctrler'),
        shardkvCommand: fromSources('shardkv'),
        authToken: 'chaos-run-token',
        groups: 3,
        maxraftstate: 8 * 1024,
        churnMs: [300, 1000],
      }),
      seed: SEED,
      durationMs: 25_000,
      clerks: 3,
      keys: 10,
      holdMs: [200, 800],
      gapMs: [100, 300],
      baseDir,
      log: (line) => lines.push(line),
    });
    const report = `seed ${SEED}\n${lines.join('\n')}\n${formatSummary(summary)}`;
    console.log(report);
    expect(summary.ok, report).toBe(true);
    expect(summary.episodes).toBeGreaterThan(3);
    expect((summary.changes.join ?? 0) + (summary.changes.leave ?? 0)).toBeGreaterThan(2);
  }, 120_000);
});
