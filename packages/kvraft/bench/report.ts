/**
 * The figures of kv-bench.ts: one record per load (`Run`, a JSON line with --json), medians
 * over the repeats (`Summary`), ours / etcd (`Comparison`), the Markdown table per op and the
 * issue's targets.
 */
import { median, round } from '@flotilla/devkit/bench/stats';
import { fmtInt, fmtMs, markdownTable } from '@flotilla/devkit/bench/table';
import type { LoadResult } from './run-load.js';

export type Op = 'put' | 'get';
export type Side = 'kvraft' | 'etcd';

/** etcd 3 members, disk, from ../shared/bench/README.md (same kind of machine, median of 3). */
export const README_ETCD: Record<
  Op,
  Record<number, { opsPerSecond: number; p50Ms: number; p99Ms: number }>
> = {
  put: {
    1: { opsPerSecond: 1120, p50Ms: 0.85, p99Ms: 2.26 },
    8: { opsPerSecond: 2926, p50Ms: 2.52, p99Ms: 6.55 },
    64: { opsPerSecond: 6811, p50Ms: 8.65, p99Ms: 22.6 },
  },
  get: {
    1: { opsPerSecond: 1820, p50Ms: 0.51, p99Ms: 1.49 },
    64: { opsPerSecond: 10909, p50Ms: 5.16, p99Ms: 15.7 },
  },
};

/** The issue's targets. */
export const TARGET_RATIO = 1.5;

/** One side at one point in one repeat: the JSON-lines record. */
export interface Run {
  kind: 'run';
  side: Side;
  repeat: number;
  op: Op;
  c: number;
  n: number;
  errors: number;
  seconds: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  truncated_by_time: boolean;
  client_cpu_pct: number;
  /** The three servers together over the measured window, % of one core. */
  server_cpu_pct: number;
  leader: number | null;
  leader_cpu_pct: number | null;
  cpu_us_per_op: number;
  /** Over the load process: the leader's WAL fsyncs and the entries they wrote, … */
  leader_fsyncs: number | null;
  leader_entries: number | null;
  entries_per_fsync: number | null;
  /** … and all three servers'. */
  fsyncs: number | null;
  entries: number | null;
  /** Ours: the leader changed (or a term began) during the load. */
  leader_changed?: boolean;
  first_error?: string;
}

export interface Summary {
  kind: 'summary';
  side: Side;
  op: Op;
  c: number;
  repeats: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  cpu_us_per_op: number;
  server_cpu_pct: number;
  leader_cpu_pct: number | null;
  entries_per_fsync: number | null;
  errors: number;
  runs_ops_per_s: number[];
}

export interface Comparison {
  kind: 'compare';
  op: Op;
  c: number;
  /** ours / etcd ops/s, etcd measured in this run: per repeat, and their median. */
  ratios: number[];
  ratio: number | null;
  /** ours (median) / the README's etcd figure, when etcd was not measured. */
  ratio_vs_readme: number | null;
}

function nullable(x: number, digits: number): number | null {
  return Number.isFinite(x) ? round(x, digits) : null;
}

/** The Run of one load result. */
export function toRun(
  side: Side,
  repeat: number,
  result: LoadResult,
  leader: number | undefined,
  wal: { leaderFsyncs: number; leaderEntries: number; fsyncs: number; entries: number } | undefined,
): Run {
  const { line, serverMicros } = result;
  const total = serverMicros.reduce((a, b) => a + b, 0);
  const pct = (micros: number): number => (micros / 1e6 / line.seconds) * 100;
  const leaderMicros = leader === undefined ? Number.NaN : (serverMicros[leader] ?? Number.NaN);
  return {
    kind: 'run',
    side,
    repeat,
    op: line.op,
    c: line.c,
    n: line.n,
    errors: line.errors,
    seconds: line.seconds,
    ops_per_s: line.ops_per_s,
    p50_ms: line.p50_ms,
    p99_ms: line.p99_ms,
    max_ms: line.max_ms,
    mean_ms: line.mean_ms,
    truncated_by_time: line.truncated_by_time,
    client_cpu_pct: line.client_cpu_pct,
    server_cpu_pct: round(pct(total), 0),
    leader: leader ?? null,
    leader_cpu_pct: nullable(pct(leaderMicros), 0),
    cpu_us_per_op: line.n > 0 ? round(total / line.n, 1) : Number.NaN,
    leader_fsyncs: wal?.leaderFsyncs ?? null,
    leader_entries: wal?.leaderEntries ?? null,
    entries_per_fsync:
      wal === undefined || wal.leaderFsyncs === 0
        ? null
        : round(wal.leaderEntries / wal.leaderFsyncs, 2),
    fsyncs: wal?.fsyncs ?? null,
    entries: wal?.entries ?? null,
    ...(line.first_error === undefined ? {} : { first_error: line.first_error }),
  };
}

export function summarize(
  runs: readonly Run[],
  side: Side,
  op: Op,
  c: number,
): Summary | undefined {
  const rs = runs.filter((r) => r.side === side && r.op === op && r.c === c);
  if (rs.length === 0) return undefined;
  const med = (f: (r: Run) => number | null): number => median(rs.map((r) => f(r) ?? Number.NaN));
  return {
    kind: 'summary',
    side,
    op,
    c,
    repeats: rs.length,
    ops_per_s: round(
      med((r) => r.ops_per_s),
      0,
    ),
    p50_ms: round(
      med((r) => r.p50_ms),
      3,
    ),
    p99_ms: round(
      med((r) => r.p99_ms),
      3,
    ),
    cpu_us_per_op: round(
      med((r) => r.cpu_us_per_op),
      0,
    ),
    server_cpu_pct: round(
      med((r) => r.server_cpu_pct),
      0,
    ),
    leader_cpu_pct: nullable(
      med((r) => r.leader_cpu_pct),
      0,
    ),
    entries_per_fsync: nullable(
      med((r) => r.entries_per_fsync),
      1,
    ),
    errors: rs.reduce((a, r) => a + r.errors, 0),
    runs_ops_per_s: rs.map((r) => round(r.ops_per_s, 0)),
  };
}

export function compare(runs: readonly Run[], op: Op, c: number): Comparison {
  const ours = runs.filter((r) => r.side === 'kvraft' && r.op === op && r.c === c);
  const ratios = ours.flatMap((r) => {
    const e = runs.find(
      (x) => x.side === 'etcd' && x.op === op && x.c === c && x.repeat === r.repeat,
    );
    return e === undefined || e.ops_per_s === 0 ? [] : [round(r.ops_per_s / e.ops_per_s, 2)];
  });
  const anchor = README_ETCD[op][c];
  const etcdMeasured = runs.some((r) => r.side === 'etcd');
  return {
    kind: 'compare',
    op,
    c,
    ratios,
    ratio: ratios.length === 0 ? null : round(median(ratios), 2),
    ratio_vs_readme:
      etcdMeasured || anchor === undefined || ours.length === 0
        ? null
        : round(median(ours.map((r) => r.ops_per_s)) / anchor.opsPerSecond, 2),
  };
}

const ratioText = (x: number | null): string => (x === null ? '–' : `${x.toFixed(2)}×`);

export function printTable(
  op: Op,
  levels: readonly number[],
  summaries: readonly Summary[],
  comparisons: readonly Comparison[],
): string[] {
  const find = (side: Side, c: number): Summary | undefined =>
    summaries.find((s) => s.side === side && s.op === op && s.c === c);
  const rows = levels.map((c) => {
    const ours = find('kvraft', c);
    const etcd = find('etcd', c);
    const anchor = etcd === undefined ? README_ETCD[op][c] : undefined;
    const cmp = comparisons.find((x) => x.op === op && x.c === c);
    const etcdFig = (
      measured: number | undefined,
      readme: number | undefined,
      f: (x: number) => string,
    ): string =>
      measured !== undefined ? f(measured) : readme !== undefined ? `${f(readme)}*` : '–';
    const epf = (s: Summary | undefined): string =>
      op === 'get' || s?.entries_per_fsync == null ? '–' : s.entries_per_fsync.toFixed(1);
    const errors = (ours?.errors ?? 0) + (etcd?.errors ?? 0);
    return [
      String(c),
      ours === undefined ? '–' : fmtInt(ours.ops_per_s),
      etcdFig(etcd?.ops_per_s, anchor?.opsPerSecond, fmtInt),
      cmp?.ratio !== null && cmp?.ratio !== undefined
        ? ratioText(cmp.ratio)
        : cmp?.ratio_vs_readme != null
          ? `${ratioText(cmp.ratio_vs_readme)}*`
          : '–',
      cmp === undefined || cmp.ratios.length === 0
        ? '–'
        : cmp.ratios.map((r) => r.toFixed(2)).join(', '),
      ours === undefined ? '–' : `${fmtMs(ours.p50_ms)} / ${fmtMs(ours.p99_ms)}`,
      etcd !== undefined
        ? `${fmtMs(etcd.p50_ms)} / ${fmtMs(etcd.p99_ms)}`
        : anchor !== undefined
          ? `${fmtMs(anchor.p50Ms)} / ${fmtMs(anchor.p99Ms)}*`
          : '–',
      ours === undefined ? '–' : fmtInt(ours.cpu_us_per_op),
      etcd === undefined ? '–' : fmtInt(etcd.cpu_us_per_op),
      epf(ours),
      epf(etcd),
      errors === 0 ? '0' : `${errors} (see runs)`,
    ];
  });
  return markdownTable(
    [
      'C',
      'ours ops/s',
      'etcd ops/s',
      'ours/etcd',
      'per repeat',
      'ours p50 / p99',
      'etcd p50 / p99',
      'ours CPU µs/op',
      'etcd CPU µs/op',
      'ours entries/fsync',
      'etcd entries/fsync',
      'errors',
    ],
    rows,
  );
}

/** The issue's three targets, met or not, as lines (and JSON records). */
export function targets(
  summaries: readonly Summary[],
  comparisons: readonly Comparison[],
  etcdMeasured: boolean,
): { lines: string[]; records: Record<string, unknown>[] } {
  const lines: string[] = [];
  const records: Record<string, unknown>[] = [];
  const against = etcdMeasured
    ? 'etcd measured in this run'
    : "the README's etcd figures (etcd not measured)";
  const verdict = (met: boolean | null): string =>
    met === null ? 'not measured' : met ? 'met' : 'NOT met';
  for (const op of ['put', 'get'] as const) {
    const cmp = comparisons.find((x) => x.op === op && x.c === 64);
    const ratio = etcdMeasured ? (cmp?.ratio ?? null) : (cmp?.ratio_vs_readme ?? null);
    const met = ratio === null ? null : ratio >= TARGET_RATIO;
    const name = `${op} C=64 ops/s ≥ ${TARGET_RATIO}× etcd`;
    lines.push(
      `- ${name}: ${ratio === null ? 'n/a' : `${ratio.toFixed(2)}×`} (vs ${against}) → ${verdict(met)}`,
    );
    records.push({ kind: 'target', name, value: ratio, met });
    if (op === 'put') {
      const ours = summaries.find((s) => s.side === 'kvraft' && s.op === 'put' && s.c === 1);
      const etcd = summaries.find((s) => s.side === 'etcd' && s.op === 'put' && s.c === 1);
      const anchor = README_ETCD.put[1];
      const e =
        etcd ??
        (etcdMeasured || anchor === undefined
          ? undefined
          : { p50_ms: anchor.p50Ms, p99_ms: anchor.p99Ms });
      const name1 = 'put C=1 p50 and p99 ≤ etcd';
      const met1 =
        ours === undefined || e === undefined
          ? null
          : ours.p50_ms <= e.p50_ms && ours.p99_ms <= e.p99_ms;
      lines.push(
        `- ${name1}: ${
          ours === undefined || e === undefined
            ? 'n/a'
            : `p50 ${fmtMs(ours.p50_ms)} vs ${fmtMs(e.p50_ms)}, p99 ${fmtMs(ours.p99_ms)} vs ${fmtMs(e.p99_ms)}`
        } (vs ${against}) → ${verdict(met1)}`,
      );
      records.push({
        kind: 'target',
        name: name1,
        value:
          ours === undefined || e === undefined
            ? null
            : { ours: [ours.p50_ms, ours.p99_ms], etcd: [e.p50_ms, e.p99_ms] },
        met: met1,
      });
    }
  }
  return { lines, records };
}
