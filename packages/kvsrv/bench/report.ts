/** Result types of kvsrv-bench.ts, their medians over the repeats, and the table. */
import { median, round } from '@flotilla/devkit/bench/stats';
import { fmtInt, fmtUs, markdownTable } from '@flotilla/devkit/bench/table';
import type { FloorLevel } from './bench-lib.js';

export type Op = 'put' | 'get';
/** `own`: one WebSocket per clerk (connectClerk); `shared`: every clerk on one WsClient. */
export type Connections = 'own' | 'shared';

export interface Cell {
  readonly op: Op;
  readonly clerks: number;
  readonly connections: Connections;
}

/** What is measured of ours in a cell: one run's figures, or their medians over the repeats. */
export interface CellFigures {
  ops_per_s: number;
  p50_us: number;
  p99_us: number;
  client_cpu_pct: number;
  server_cpu_pct: number;
  client_cpu_us_per_op: number;
  server_cpu_us_per_op: number;
  /** Share of /proc samples with client and server last on the same CPU. */
  same_cpu_pct: number;
  req_bytes: number;
  reply_bytes: number;
}

/** One cell of one repeat. */
export interface OursResult extends Cell, CellFigures {
  kind: 'run';
  impl: 'kvsrv';
  repeat: number;
  ops: number;
  seconds: number;
  /** CPU taken by other processes meanwhile, in % of one CPU. */
  others_cpu_pct: number;
  failures: number;
}

/** One in-flight level of one floor run (ws-echo.mjs's JSON line and what we derive). */
export interface FloorResult extends FloorLevel {
  kind: 'run';
  impl: 'floor';
  repeat: number;
  client_cpu_us_per_op: number;
  server_cpu_us_per_op: number;
}

/** A cell over the repeats: our medians, and the floor's at the same C. */
export interface Summary extends Cell, CellFigures {
  kind: 'summary';
  repeats: number;
  /** The most CPU other processes took during any of the cell's runs, ours or the floor's. */
  max_others_cpu_pct: number;
  /** The floor at `clerks` requests in flight on one connection (null: no floor). */
  floor_rtt_per_s: number | null;
  floor_p50_us: number | null;
  floor_p99_us: number | null;
  floor_client_cpu_pct: number | null;
  floor_server_cpu_pct: number | null;
  floor_client_cpu_us_per_op: number | null;
  floor_server_cpu_us_per_op: number | null;
  floor_same_cpu_pct: number | null;
  /**
   * Median of the per-repeat ratios ours/floor (each pair ran back to back) over the pairs
   * whose processes were placed alike; over all pairs if none was.
   */
  ratio: number | null;
  ratios: number[];
  /** Per pair: did ours and the floor share a CPU about as often (see PLACED_ALIKE_POINTS)? */
  placed_alike: boolean[];
}

/**
 * A pair of runs whose same-CPU shares differ by more than this many points was placed
 * differently by the scheduler: at C = 1 that alone moves a figure 3x, so the ratio leaves
 * such pairs out when others remain.
 */
export const PLACED_ALIKE_POINTS = 25;

export function summarize(
  cells: readonly Cell[],
  floor: readonly FloorResult[],
  ours: readonly OursResult[],
): Summary[] {
  return cells.map((cell) => {
    const o = ours.filter(
      (r) => r.op === cell.op && r.clerks === cell.clerks && r.connections === cell.connections,
    );
    const f = floor.filter((r) => r.inflight === cell.clerks);
    const ratios: number[] = [];
    const alike: boolean[] = [];
    for (const r of o) {
      const peer = f.find((x) => x.repeat === r.repeat);
      if (peer === undefined) continue;
      ratios.push(round(r.ops_per_s / peer.rtt_per_s, 3));
      // Unknown placement (no /proc) counts as alike.
      alike.push(!(Math.abs(r.same_cpu_pct - peer.same_cpu_pct) > PLACED_ALIKE_POINTS));
    }
    const om = (pick: (r: OursResult) => number): number => median(o.map(pick));
    const fm = (pick: (r: FloorResult) => number): number | null =>
      f.length === 0 ? null : median(f.map(pick));
    return {
      kind: 'summary',
      op: cell.op,
      clerks: cell.clerks,
      connections: cell.connections,
      repeats: o.length,
      ops_per_s: om((r) => r.ops_per_s),
      p50_us: om((r) => r.p50_us),
      p99_us: om((r) => r.p99_us),
      client_cpu_pct: om((r) => r.client_cpu_pct),
      server_cpu_pct: om((r) => r.server_cpu_pct),
      client_cpu_us_per_op: om((r) => r.client_cpu_us_per_op),
      server_cpu_us_per_op: om((r) => r.server_cpu_us_per_op),
      same_cpu_pct: om((r) => r.same_cpu_pct),
      max_others_cpu_pct: maxOf([
        ...o.map((r) => r.others_cpu_pct),
        ...f.map((r) => r.others_cpu_pct),
      ]),
      req_bytes: om((r) => r.req_bytes),
      reply_bytes: om((r) => r.reply_bytes),
      floor_rtt_per_s: fm((r) => r.rtt_per_s),
      floor_p50_us: fm((r) => r.p50_us),
      floor_p99_us: fm((r) => r.p99_us),
      floor_client_cpu_pct: fm((r) => r.client_cpu_pct),
      floor_server_cpu_pct: fm((r) => r.server_cpu_pct),
      floor_client_cpu_us_per_op: fm((r) => r.client_cpu_us_per_op),
      floor_server_cpu_us_per_op: fm((r) => r.server_cpu_us_per_op),
      floor_same_cpu_pct: fm((r) => r.same_cpu_pct),
      ratio:
        ratios.length === 0
          ? null
          : round(median(alike.includes(true) ? ratios.filter((_, i) => alike[i]) : ratios), 3),
      ratios,
      placed_alike: alike,
    };
  });
}

function ratioCell(s: Summary): string {
  if (s.ratio === null) return 'n/a';
  const used = s.placed_alike.filter(Boolean).length;
  const all = s.placed_alike.length;
  return used === all || used === 0
    ? s.ratio.toFixed(2)
    : `${s.ratio.toFixed(2)} (${used} of ${all})`;
}

/** The largest number that is not NaN (NaN if none is). */
function maxOf(xs: readonly number[]): number {
  const known = xs.filter((x) => !Number.isNaN(x));
  return known.length === 0 ? Number.NaN : Math.max(...known);
}

const CONNECTIONS_LABEL: Record<Connections, string> = {
  own: '1 per clerk',
  shared: '1 shared',
};

export function printTable(
  summaries: readonly Summary[],
  run: {
    readonly repeats: number;
    readonly seconds: number;
    readonly machine: string;
    readonly haveFloor: boolean;
    readonly maxBusy: number;
    readonly keyCount: number;
    readonly floorReqBytes: number | undefined;
  },
): void {
  const na = 'n/a';
  const lat = (p50: number | null, p99: number | null): string =>
    p50 === null || p99 === null ? na : `${fmtUs(p50)} / ${fmtUs(p99)}`;
  const what = run.haveFloor
    ? 'next to the ws + msgpackr floor (ws-echo.mjs: C requests in flight on ONE connection)'
    : 'ours only (no floor)';
  const perOp = (client: number | null, server: number | null): string =>
    client === null || server === null ? na : `${client.toFixed(1)} + ${server.toFixed(1)}`;
  const pct = (x: number | null): string =>
    x === null || Number.isNaN(x) ? na : `${Math.round(x)}%`;
  const floor = run.haveFloor;
  const columns: Array<readonly [string, (s: Summary) => string, boolean?]> = [
    ['op', (s) => s.op],
    ['clerks', (s) => String(s.clerks)],
    ['connections', (s) => CONNECTIONS_LABEL[s.connections]],
    ['ops/s', (s) => fmtInt(s.ops_per_s)],
    ['floor rt/s', (s) => (s.floor_rtt_per_s === null ? na : fmtInt(s.floor_rtt_per_s)), true],
    ['ratio', ratioCell, true],
    ['p50 / p99', (s) => lat(s.p50_us, s.p99_us)],
    ['floor p50 / p99', (s) => lat(s.floor_p50_us, s.floor_p99_us), true],
    ['CPU µs/op client + server', (s) => perOp(s.client_cpu_us_per_op, s.server_cpu_us_per_op)],
    [
      'floor CPU µs/op client + server',
      (s) => perOp(s.floor_client_cpu_us_per_op, s.floor_server_cpu_us_per_op),
      true,
    ],
    ['CPU client / server', (s) => `${pct(s.client_cpu_pct)} / ${pct(s.server_cpu_pct)}`],
    [
      'floor CPU client / server',
      (s) => `${pct(s.floor_client_cpu_pct)} / ${pct(s.floor_server_cpu_pct)}`,
      true,
    ],
    [
      floor ? 'same CPU ours / floor' : 'same CPU',
      (s) =>
        floor ? `${pct(s.same_cpu_pct)} / ${pct(s.floor_same_cpu_pct)}` : pct(s.same_cpu_pct),
    ],
    ['other load', (s) => `≤ ${pct(s.max_others_cpu_pct)}`],
  ];
  const shown = columns.filter(([, , isFloor]) => floor || isFloor !== true);
  const lines = [
    `kvsrv Put/Get over WebSocket between processes, ${what}; median of ${run.repeats} × ${run.seconds} s; ${run.machine}`,
    '',
    ...markdownTable(
      shown.map(([h]) => h),
      summaries.map((s) => shown.map(([, v]) => v(s))),
    ),
    '',
  ];
  const sizes = new Map<Op, string>();
  for (const s of summaries) sizes.set(s.op, `${s.op} ${s.req_bytes} B / ${s.reply_bytes} B`);
  lines.push(
    `frames (request / reply): ${[...sizes.values()].join(', ')}` +
      `${run.floorReqBytes === undefined ? '' : `; floor ${run.floorReqBytes} B / 54 B`}` +
      `; ${run.keyCount} keys of 16 B, values of 128 B`,
  );
  lines.push(
    `${floor ? 'ratio: ours ops/s over the floor round trips/s at the same C, per repeat, median. ' : ''}` +
      'Server CPU, "same CPU" (client and server last ran on one vCPU) and other load ' +
      '(other processes, % of one vCPU, the most in any run of the row) sampled from /proc.',
  );
  for (const s of summaries) {
    if (s.ratios.length > 0)
      lines.push(
        `  ${s.op} ${s.clerks} clerk(s), ${CONNECTIONS_LABEL[s.connections]}: per-repeat ratios ` +
          s.ratios.map((r, i) => `${r}${s.placed_alike[i] ? '' : '*'}`).join(', '),
      );
  }
  if (summaries.some((s) => s.placed_alike.includes(false))) {
    lines.push(
      `  * ours and the floor placed differently (same-CPU shares ${PLACED_ALIKE_POINTS}+ points ` +
        'apart): left out of the ratio, which counts "k of n" pairs when it leaves any out',
    );
  }
  const maxOthers = maxOf(summaries.map((s) => s.max_others_cpu_pct));
  lines.push(
    `background CPU load: at most ${run.maxBusy}% of all CPUs sampled before each run and after ` +
      `the last; other processes took up to ${maxOthers}% of one vCPU during a measured run`,
  );
  if (run.maxBusy > 10 || maxOthers > 20)
    lines.push(
      'WARNING: something else was using the CPUs; figures are skewed (see "other load"), ' +
        'the ratios less so.',
    );
  console.log(lines.join('\n'));
}
