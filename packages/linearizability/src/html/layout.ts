/**
 * Positions for one partition's time line, in the spirit of Porcupine's visualization: time is
 * warped so that every distinct instant gets its own x, every box is wide enough for its text,
 * and each box contains its linearization point, with the points strictly left to right in
 * linearization order. One greedy left-to-right scan over the instants solves all three.
 */

export const CHAR_WIDTH = 7.3; // 12px monospace
export const BOX_HEIGHT = 24;
const TEXT_PAD = 8;
const INSTANT_GAP = 12;
const POINT_GAP = 12;
const POINT_INSET = 7;
const LANE_GAP = 4;
const ROW_GAP = 12;
const PENDING_TAIL = 90;
const LABEL_PAD = 14;
export const MARGIN = 12;

export interface LayoutOp {
  readonly index: number;
  readonly clientId: number;
  readonly call: number;
  /** Infinity when the outcome is unknown. */
  readonly return: number;
  readonly label: string;
}

export interface BoxPosition {
  readonly x0: number;
  /** Where the interval ends; for an operation with no reply, the right edge of the line. */
  readonly x1: number;
  /** Where the drawn box ends: `x1`, or for no reply, just past the label (a tail follows). */
  readonly boxEnd: number;
  readonly y: number;
}

export interface RowPosition {
  readonly clientId: number;
  readonly y: number;
  readonly height: number;
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  /** Width of the client-label column (drawn separately, so it stays put when scrolling). */
  readonly labelWidth: number;
  readonly rows: readonly RowPosition[];
  /** By history index. */
  readonly boxes: ReadonlyMap<number, BoxPosition>;
  /** x of each linearization point, in linearization order. */
  readonly points: readonly number[];
  /** x of the "cannot go next" mark of each stuck operation, by history index. */
  readonly stuckMarks: ReadonlyMap<number, number>;
}

export function textWidth(text: string): number {
  return [...text].length * CHAR_WIDTH;
}

/** An instant: a call sorts before a return at the same time, as in the checker. */
function instantKey(time: number, isReturn: boolean): string {
  return `${time}:${isReturn ? 1 : 0}`;
}

function compareInstants(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

export function layoutPartition(
  ops: readonly LayoutOp[],
  linearization: readonly number[],
  stuck: readonly number[],
): Layout {
  const byIndex = new Map(ops.map((op) => [op.index, op]));
  const instants = new Map<string, [number, number]>();
  for (const op of ops) {
    instants.set(instantKey(op.call, false), [op.call, 0]);
    if (op.return !== Number.POSITIVE_INFINITY)
      instants.set(instantKey(op.return, true), [op.return, 1]);
  }
  const sorted = [...instants.values()].sort(compareInstants);
  const endingAt = new Map<string, LayoutOp[]>();
  for (const op of ops) {
    if (op.return === Number.POSITIVE_INFINITY) continue;
    const key = instantKey(op.return, true);
    const list = endingAt.get(key);
    if (list === undefined) endingAt.set(key, [op]);
    else list.push(op);
  }
  const position = new Map<number, number>(linearization.map((index, j) => [index, j]));
  const stuckSet = new Set(stuck);
  const x = new Map<string, number>();
  const points: number[] = [];
  const stuckMarks = new Map<number, number>();
  const callX = (op: LayoutOp): number => x.get(instantKey(op.call, false)) ?? 0;
  const pointsThrough = (j: number): void => {
    for (let k = points.length; k <= j; k++) {
      const op = byIndex.get(linearization[k] as number) as LayoutOp;
      const earliest = callX(op) + POINT_INSET;
      points.push(k === 0 ? earliest : Math.max(earliest, (points[k - 1] as number) + POINT_GAP));
    }
  };
  const stuckMark = (op: LayoutOp): number => {
    pointsThrough(linearization.length - 1);
    const last = points.at(-1);
    const mark = Math.max(callX(op) + POINT_INSET, last === undefined ? 0 : last + POINT_GAP);
    stuckMarks.set(op.index, mark);
    return mark;
  };
  /** The least x at which `op` may end. */
  const minEnd = (op: LayoutOp): number => {
    let end = callX(op) + textWidth(op.label) + 2 * TEXT_PAD;
    const j = position.get(op.index);
    if (j !== undefined) {
      pointsThrough(j);
      end = Math.max(end, (points[j] as number) + POINT_INSET);
    }
    if (stuckSet.has(op.index)) end = Math.max(end, stuckMark(op) + POINT_INSET);
    return end;
  };

  let last = 0;
  for (let i = 0; i < sorted.length; i++) {
    const [time, kind] = sorted[i] as [number, number];
    const key = instantKey(time, kind === 1);
    let pos = i === 0 ? 0 : last + INSTANT_GAP;
    for (const op of endingAt.get(key) ?? []) pos = Math.max(pos, minEnd(op));
    x.set(key, pos);
    last = pos;
  }
  const intervalEnd = new Map<number, number>();
  let right = last;
  for (const op of ops) {
    const end =
      op.return === Number.POSITIVE_INFINITY
        ? Math.max(last + PENDING_TAIL, minEnd(op) + PENDING_TAIL * 0.7)
        : (x.get(instantKey(op.return, true)) as number);
    intervalEnd.set(op.index, end);
    right = Math.max(right, end);
  }
  pointsThrough(linearization.length - 1);

  const { rows, laneOf, height } = assignRows(ops);
  const labelWidth = Math.max(...rows.map((r) => textWidth(`client ${r.clientId}`))) + LABEL_PAD;
  const left = MARGIN;
  const boxes = new Map<number, BoxPosition>();
  for (const op of ops) {
    const lane = laneOf.get(op.index) as { row: RowPosition; lane: number };
    const x1 = left + (intervalEnd.get(op.index) as number);
    const x0 = left + callX(op);
    boxes.set(op.index, {
      x0,
      x1,
      boxEnd:
        op.return === Number.POSITIVE_INFINITY
          ? Math.min(x1, x0 + textWidth(op.label) + 2 * TEXT_PAD)
          : x1,
      y: lane.row.y + lane.lane * (BOX_HEIGHT + LANE_GAP),
    });
  }
  return {
    width: left + right + MARGIN,
    height,
    labelWidth,
    rows,
    boxes,
    points: points.map((p) => left + p),
    stuckMarks: new Map([...stuckMarks].map(([i, p]) => [i, left + p])),
  };
}

/**
 * One row per client (by id); inside a row, operations that overlap in time (a client that
 * gave up on a call and went on) get extra lanes.
 */
function assignRows(ops: readonly LayoutOp[]): {
  rows: RowPosition[];
  laneOf: Map<number, { row: RowPosition; lane: number }>;
  height: number;
} {
  const clients = [...new Set(ops.map((op) => op.clientId))].sort((a, b) => a - b);
  const rows: RowPosition[] = [];
  const laneOf = new Map<number, { row: RowPosition; lane: number }>();
  let y = MARGIN;
  for (const clientId of clients) {
    const mine = ops
      .filter((op) => op.clientId === clientId)
      .sort((a, b) => a.call - b.call || a.index - b.index);
    const laneEnds: number[] = [];
    const lanes = new Map<number, number>();
    for (const op of mine) {
      // Strictly after: a call at the instant another returns overlaps it.
      let lane = laneEnds.findIndex((end) => end < op.call);
      if (lane < 0) lane = laneEnds.length;
      laneEnds[lane] = op.return;
      lanes.set(op.index, lane);
    }
    const height = laneEnds.length * BOX_HEIGHT + (laneEnds.length - 1) * LANE_GAP;
    const row = { clientId, y, height };
    rows.push(row);
    for (const [index, lane] of lanes) laneOf.set(index, { row, lane });
    y += height + ROW_GAP;
  }
  return { rows, laneOf, height: y - ROW_GAP + MARGIN };
}
