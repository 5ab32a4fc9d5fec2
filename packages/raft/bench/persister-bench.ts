/**
 * FilePersister save throughput on this disk: sequential, awaited saves (one in flight, the
 * way the node's Ready loop persists) of a 1-entry and a 64-entry update with 128-byte
 * commands, next to the floor — a raw append of the same record size + fdatasync — measured
 * in the same run. Median of 3 rounds.
 *
 *   node_modules/.bin/tsx packages/raft/bench/persister-bench.ts [--dir DIR] [--saves N]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encode } from '../src/codec.js';
import type { LogEntry } from '../src/core/messages.js';
import { FilePersister } from '../src/persister/file-persister.js';
import { frameRecord } from '../src/persister/file-wal.js';

const { values } = parseArgs({
  options: { dir: { type: 'string' }, saves: { type: 'string', default: '2000' } },
});
const saves = Number(values.saves);
const base = await mkdtemp(join(values.dir ?? tmpdir(), 'flotilla-persister-bench-'));

interface Result {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly recordBytes: number;
}

function summarize(latencies: number[], totalMs: number, recordBytes: number): Result {
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    perSecond: (latencies.length / totalMs) * 1000,
    p50: at(0.5) * 1000,
    p99: at(0.99) * 1000,
    recordBytes,
  };
}

function batch(size: number): LogEntry[] {
  return Array.from({ length: size }, () => ({
    term: 1,
    command: new Uint8Array(randomBytes(128)),
  }));
}

async function benchPersister(round: number, perSave: number): Promise<Result> {
  const dir = join(base, `p-${perSave}-${round}`);
  const persister = await FilePersister.open(dir);
  const entries = batch(perSave);
  const recordBytes = frameRecord({
    entries: { from: 1, entries: entries.map((e) => encode(e)) },
  }).length;
  await persister.save({ hardState: { term: 1, votedFor: 0 } });
  const latencies: number[] = [];
  let next = 1;
  const start = performance.now();
  for (let i = 0; i < saves; i++) {
    const t0 = performance.now();
    await persister.save({ entries: { from: next, entries } });
    latencies.push(performance.now() - t0);
    next += perSave;
  }
  const total = performance.now() - start;
  await persister.close();
  await rm(dir, { recursive: true, force: true });
  return summarize(latencies, total, recordBytes);
}

async function benchRawAppend(round: number, bytes: number): Promise<Result> {
  const path = join(base, `raw-${bytes}-${round}`);
  const handle = await open(path, 'w');
  const buffer = randomBytes(bytes);
  const latencies: number[] = [];
  let position = 0;
  const start = performance.now();
  for (let i = 0; i < saves; i++) {
    const t0 = performance.now();
    await handle.write(buffer, 0, bytes, position);
    await handle.datasync();
    latencies.push(performance.now() - t0);
    position += bytes;
  }
  const total = performance.now() - start;
  await handle.close();
  await rm(path, { force: true });
  return summarize(latencies, total, bytes);
}

function median(results: Result[]): Result {
  const sorted = [...results].sort((a, b) => a.perSecond - b.perSecond);
  return sorted[Math.floor(sorted.length / 2)] as Result;
}

const rows: string[] = [];
try {
  for (const perSave of [1, 64]) {
    const persisted: Result[] = [];
    const raw: Result[] = [];
    for (let round = 0; round < 3; round++) {
      const p = await benchPersister(round, perSave);
      persisted.push(p);
      raw.push(await benchRawAppend(round, p.recordBytes));
    }
    const p = median(persisted);
    const r = median(raw);
    rows.push(
      `| FilePersister.save, ${perSave} entr${perSave === 1 ? 'y' : 'ies'} × 128 B (${p.recordBytes} B record) | ${Math.round(p.perSecond)} | ${Math.round(p.perSecond * perSave)} | ${p.p50.toFixed(0)} µs | ${p.p99.toFixed(0)} µs |`,
      `| raw append of ${r.recordBytes} B + fdatasync | ${Math.round(r.perSecond)} | – | ${r.p50.toFixed(0)} µs | ${r.p99.toFixed(0)} µs |`,
    );
  }
} finally {
  await rm(base, { recursive: true, force: true });
}
console.log(
  `${saves} sequential saves per round, median of 3 rounds, dir ${values.dir ?? tmpdir()}`,
);
console.log('| what | saves/s | entries/s | p50 | p99 |');
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(row);
