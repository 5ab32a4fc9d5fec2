/**
 * Checker throughput on generated KV histories (kvModel, partitioned by key): 1, 10 and 50
 * concurrent clients, about 1,700 operations on 10 keys, each history linearizable ("ok") and
 * with one read changed to a value never written ("illegal"), in two shapes of timing; plus
 * 5,000-operation histories and histories with unknown outcomes.
 *
 *   pnpm bench                        # = tsx bench/check-bench.ts, from packages/linearizability
 *   tsx bench/check-bench.ts [--repeats 7] [--json] [--export DIR]
 *
 * Each case is checked twice to warm up, then `repeats` times; the figure is the median wall
 * time of one `checkOperations` call (validation, partitioning, search). `--export DIR` writes
 * every history as JSON (an operation list, as the CLI reads), to run through other checkers.
 * Target (issue 5): 50 clients, ~1,700 operations on 10 keys, decided in ≤ 200 ms.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import {
  casRegisterModel,
  checkOperations,
  type KvInput,
  type KvOutput,
  kvModel,
  type Model,
  type Operation,
  registerModel,
} from '../src/index.js';
import {
  casHistory,
  corruptOneRead,
  kvHistory,
  prng,
  type RandomSpecOptions,
  randomSpecs,
  registerHistory,
} from '../test/support/histories.js';

const TARGET_MS = 200;

const { values: opts } = parseArgs({
  // `pnpm bench -- --json` passes the `--` along.
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    repeats: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
    export: { type: 'string' },
  },
  strict: true,
});
const repeats = Math.max(1, Number(opts.repeats));

interface Shape {
  readonly name: string;
  readonly timing: Pick<
    RandomSpecOptions,
    'minDuration' | 'maxDuration' | 'maxThink' | 'effectFrom'
  >;
}

/** Operations 5–10 time units long, 0–2 idle between them; effect anywhere inside. */
const EVEN: Shape = { name: 'even', timing: { minDuration: 5, maxDuration: 10, maxThink: 2 } };
/** Operations 1–20 units long (very uneven latencies), 0–3 idle. */
const UNEVEN: Shape = { name: 'uneven', timing: { minDuration: 1, maxDuration: 20, maxThink: 3 } };

interface Case {
  readonly name: string;
  readonly clients: number;
  readonly ops: Operation<KvInput, KvOutput>[];
  readonly expected: 'ok' | 'illegal';
}

function cases(): Case[] {
  const out: Case[] = [];
  const add = (
    name: string,
    clients: number,
    opsPerClient: number,
    shape: Shape,
    extra: Partial<RandomSpecOptions> = {},
  ) => {
    const seed = clients * 1000 + opsPerClient;
    const ok = kvHistory(
      randomSpecs(seed, { clients, opsPerClient, keys: 10, ...shape.timing, ...extra }),
    );
    out.push({ name: `${name}, ok`, clients, ops: ok, expected: 'ok' });
    const bad = [...ok];
    corruptOneRead(bad, prng(seed)(), 'never#written');
    out.push({ name: `${name}, illegal`, clients, ops: bad, expected: 'illegal' });
  };
  for (const shape of [EVEN, UNEVEN]) {
    for (const clients of [1, 10, 50]) {
      add(
        `${clients} client${clients > 1 ? 's' : ''}, ${shape.name}`,
        clients,
        Math.ceil(1700 / clients),
        shape,
      );
    }
  }
  add('50 clients, even, 5% no reply', 50, 34, EVEN, { pendingRate: 0.05 });
  add('10 clients, even, 25% no reply', 10, 30, EVEN, { pendingRate: 0.25 });
  add('50 clients × 100 ops, even', 50, 100, EVEN);
  add('50 clients × 100 ops, uneven', 50, 100, UNEVEN);
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

interface Row {
  name: string;
  operations: number;
  outcome: string;
  medianMs: number;
  minMs: number;
  opsPerSecond: number;
  steps: number;
}

const rows: Row[] = [];
for (const c of cases()) {
  if (opts.export !== undefined) {
    mkdirSync(opts.export, { recursive: true });
    writeFileSync(
      join(opts.export, `${c.name.replace(/[^a-z0-9]+/gi, '-')}.json`),
      JSON.stringify(c.ops),
    );
  }
  const times: number[] = [];
  let outcome = '';
  let steps = 0;
  for (let i = 0; i < repeats + 2; i++) {
    const start = performance.now();
    const result = checkOperations(kvModel, c.ops, { timeLimitMs: 60_000 });
    const ms = performance.now() - start;
    if (i >= 2) times.push(ms);
    outcome = result.outcome;
    steps = result.partitions.reduce((sum, p) => sum + p.steps, 0);
  }
  if (outcome !== c.expected) throw new Error(`${c.name}: expected ${c.expected}, got ${outcome}`);
  const medianMs = median(times);
  rows.push({
    name: c.name,
    operations: c.ops.length,
    outcome,
    medianMs,
    minMs: Math.min(...times),
    opsPerSecond: c.ops.length / (medianMs / 1000),
    steps,
  });
}

/**
 * Issue 16's target: 100 CAS-register histories shaped like Jepsen's etcd ones (5 clients,
 * 100–300 operations, values 0–4, about 7% unknown-outcome writes: 10–20 each), each checked
 * once per repeat; the figures are the median over repeats of the set's total and of its
 * slowest history.
 */
function casSet(): { totalMs: number; worstMs: number; operations: number } {
  const model = casRegisterModel<number | null>(null);
  const histories = Array.from({ length: 100 }, (_, i) => {
    const seed = i + 1;
    const opsPerClient = 20 + Math.floor(prng(seed * 31)() * 41);
    return casHistory(
      randomSpecs(seed, { clients: 5, opsPerClient, keys: 1, pendingRate: 0.07, maxThink: 3 }),
    );
  });
  const totals: number[] = [];
  const worsts: number[] = [];
  for (let i = 0; i < repeats + 2; i++) {
    let total = 0;
    let worst = 0;
    for (const ops of histories) {
      const start = performance.now();
      const result = checkOperations(model, ops, { timeLimitMs: 60_000 });
      const ms = performance.now() - start;
      if (result.outcome !== 'ok')
        throw new Error(`CAS history: expected ok, got ${result.outcome}`);
      total += ms;
      worst = Math.max(worst, ms);
    }
    if (i >= 2) {
      totals.push(total);
      worsts.push(worst);
    }
  }
  const operations = histories.reduce((sum, h) => sum + h.length, 0);
  return { totalMs: median(totals), worstMs: median(worsts), operations };
}
const cas = casSet();

/**
 * The fixed cost (issue 16: well under 0.1 ms once warm): one client, 100 operations, one
 * register / CAS register / KV key; the mean of a batch of checks, median over repeats.
 */
function tinyCases(): { name: string; microseconds: number }[] {
  const specs = randomSpecs(7, { clients: 1, opsPerClient: 100, keys: 1 });
  const cases: [string, () => unknown][] = [
    ['register', bind(registerModel(0), registerHistory(specs))],
    ['CAS register', bind(casRegisterModel<number | null>(null), casHistory(specs))],
    ['KV, one key', bind(kvModel, kvHistory(specs))],
  ];
  const batch = 2000;
  return cases.map(([name, check]) => {
    for (let i = 0; i < batch; i++) check();
    const means: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      for (let i = 0; i < batch; i++) check();
      means.push(((performance.now() - start) / batch) * 1000);
    }
    return { name, microseconds: median(means) };
  });
}

function bind<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[]): () => unknown {
  return () => checkOperations(model, ops);
}
const tiny = tinyCases();

if (opts.json) {
  console.log(JSON.stringify({ repeats, node: process.version, rows, cas, tiny }, null, 2));
} else {
  const fmt = (n: number, d = 0) =>
    n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log(
    `checkOperations(kvModel, …): median of ${repeats} runs after 2 warm-up runs, Node ${process.version}\n`,
  );
  console.log(
    '| history | operations | outcome | median ms | min ms | operations/s | search steps |',
  );
  console.log('|---|---:|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${fmt(r.operations)} | ${r.outcome} | ${fmt(r.medianMs, 1)} | ${fmt(r.minMs, 1)} | ${fmt(r.opsPerSecond)} | ${fmt(r.steps)} |`,
    );
  }
  const target = rows.filter(
    (r) => r.name.startsWith('50 clients, ') && !r.name.includes('no reply'),
  );
  const worst = Math.max(...target.map((r) => r.medianMs));
  console.log(
    `\nTarget: 50 clients, ~1,700 operations on 10 keys, ok or illegal, in ≤ ${TARGET_MS} ms: ` +
      `worst median ${fmt(worst, 1)} ms — ${worst <= TARGET_MS ? 'met' : 'NOT met'}.`,
  );
  const casMet = cas.totalMs <= 250 && cas.worstMs <= 50;
  console.log(
    `\n100 CAS-register histories (5 clients, ${fmt(cas.operations)} operations, ~7% unknown-outcome writes): ` +
      `total ${fmt(cas.totalMs, 1)} ms, slowest ${fmt(cas.worstMs, 1)} ms ` +
      `(target ≤ 250 ms total, ≤ 50 ms each) — ${casMet ? 'met' : 'NOT met'}.`,
  );
  console.log(
    `\nOne client, 100 operations (the fixed cost; target well under 100 µs): ${tiny
      .map((t) => `${t.name} ${fmt(t.microseconds, 1)} µs`)
      .join(', ')}.`,
  );
}
