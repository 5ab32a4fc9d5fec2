import { explainVerdict, type LinearizationStep, type StuckOperation } from '../explain.js';
import { escapeHtml, px } from './escape.js';
import { BOX_HEIGHT, type Layout, type LayoutOp, layoutPartition, MARGIN } from './layout.js';

/** Where inside a box the linearization points sit: below the text. */
const POINT_DY = BOX_HEIGHT - 6;
const TEXT_DY = 14;
export const MAX_LABEL = 56;

export interface TimelineOp extends LayoutOp {
  /** Full description for the tooltip. */
  readonly description: string;
  /** When the client gave up waiting, if it said. */
  readonly gaveUp?: number | undefined;
}

export interface TimelineInput {
  /** Unique within the page (used for element ids). */
  readonly id: string;
  readonly ops: readonly TimelineOp[];
  readonly linearization: readonly LinearizationStep[];
  readonly stuck: readonly StuckOperation[];
}

export interface Timeline {
  /** The client-label column. */
  readonly labels: string;
  /** The time line itself, to be put in a horizontally scrolling box. */
  readonly body: string;
  /** Where the trouble is in `body`: the end of the linearization and the first stuck mark. */
  readonly focus: { readonly from: number; readonly to: number } | undefined;
}

function timeText(t: number): string {
  return t === Number.POSITIVE_INFINITY ? 'no reply' : String(t);
}

export function shortLabel(description: string): string {
  const chars = [...description];
  return chars.length <= MAX_LABEL ? description : `${chars.slice(0, MAX_LABEL - 1).join('')}…`;
}

function rowStripes(layout: Layout, width: string): string[] {
  return layout.rows.map(
    (row, i) =>
      `<rect class="row${i % 2 ? ' odd' : ''}" x="0" y="${px(row.y - 6)}" width="${width}" height="${px(row.height + 12)}"/>`,
  );
}

/**
 * One partition as SVG: a row per client, a box per operation (call to return; an operation
 * with no reply trails a dashed line to the right edge), the linearization as a path through a
 * point in each box, and a red mark for each operation that keeps it from going on.
 */
export function renderTimeline(input: TimelineInput): Timeline {
  const { ops, linearization, stuck } = input;
  const order = linearization.map((s) => s.index);
  const layout = layoutPartition(
    ops,
    order,
    stuck.map((s) => s.index),
  );
  const step = new Map(linearization.map((s, j) => [s.index, { j, state: s.stateAfter }]));
  const stuckVerdict = new Map(stuck.map((s) => [s.index, s.verdict]));
  const stuckDetail = new Map(stuck.map((s) => [s.index, s.detail]));

  const labelWidth = MARGIN + layout.labelWidth;
  const labels = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline labels" width="${px(labelWidth)}" height="${px(layout.height)}">`,
    ...rowStripes(layout, '100%'),
    ...layout.rows.map(
      (row) =>
        `<text class="client" x="${px(labelWidth - 10)}" y="${px(row.y + TEXT_DY + 1)}">client ${row.clientId}</text>`,
    ),
    '</svg>',
  ].join('\n');

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="${px(layout.width)}" height="${px(layout.height)}">`,
    ...rowStripes(layout, '100%'),
  ];
  const texts: string[] = [];
  for (const op of ops) {
    const box = layout.boxes.get(op.index);
    if (box === undefined) continue;
    const s = step.get(op.index);
    const verdict = stuckVerdict.get(op.index);
    const kind = verdict === undefined ? (s !== undefined ? 'lin' : 'rest') : `stuck ${verdict}`;
    const pending = op.return === Number.POSITIVE_INFINITY;
    const tip = [
      `#${op.index} client ${op.clientId}: ${op.description}`,
      op.gaveUp === undefined
        ? `call ${timeText(op.call)}, return ${timeText(op.return)}`
        : `call ${timeText(op.call)}, gave up at ${op.gaveUp} (no reply)`,
      s ? `linearized at step ${s.j + 1}; state after: ${s.state}` : '',
      verdict === undefined ? '' : `stuck: ${explainVerdict(verdict)}`,
      stuckDetail.get(op.index) ?? '',
    ]
      .filter((l) => l !== '')
      .join('\n');
    out.push(
      `<g class="op ${kind}${pending ? ' pending' : ''}" data-index="${op.index}"><title>${escapeHtml(tip)}</title>`,
      `<rect class="box" x="${px(box.x0)}" y="${px(box.y)}" width="${px(box.boxEnd - box.x0)}" height="${BOX_HEIGHT}" rx="4"/>`,
    );
    if (pending) {
      out.push(
        `<line class="tail" x1="${px(box.boxEnd)}" y1="${px(box.y + POINT_DY)}" x2="${px(box.x1)}" y2="${px(box.y + POINT_DY)}"/>`,
      );
      texts.push(`<text class="no-reply" x="${px(box.x1)}" y="${px(box.y + 9)}">no reply →</text>`);
    }
    out.push('</g>');
    texts.push(
      `<text class="label ${kind}" x="${px(box.x0 + 8)}" y="${px(box.y + TEXT_DY)}">${escapeHtml(shortLabel(op.label))}</text>`,
    );
  }
  const pointXY = order.map((index, j) => {
    const box = layout.boxes.get(index);
    return [layout.points[j] as number, (box?.y ?? 0) + POINT_DY] as const;
  });
  if (pointXY.length > 1) {
    out.push(
      `<polyline class="lin-path" points="${pointXY.map(([x, y]) => `${px(x)},${px(y)}`).join(' ')}"/>`,
    );
  }
  const last = pointXY.at(-1);
  let focusX: number | undefined;
  for (const s of stuck) {
    const box = layout.boxes.get(s.index);
    const markX = layout.stuckMarks.get(s.index);
    if (box === undefined || markX === undefined) continue;
    focusX ??= markX; // the first one listed is the most telling
    const y = box.y + POINT_DY;
    if (last) {
      out.push(
        `<line class="stuck-path ${s.verdict}" x1="${px(last[0])}" y1="${px(last[1])}" x2="${px(markX)}" y2="${px(y)}"/>`,
      );
    }
    out.push(
      `<g class="stuck-mark ${s.verdict}"><circle cx="${px(markX)}" cy="${px(y)}" r="5"/><path d="M${px(markX - 2.5)} ${px(y - 2.5)}l5 5m0 -5l-5 5"/></g>`,
    );
  }
  pointXY.forEach(([x, y], j) => {
    const s = linearization[j] as LinearizationStep;
    out.push(
      `<circle class="lin-point" cx="${px(x)}" cy="${px(y)}" r="3.5"><title>step ${j + 1}: #${s.index}; state after: ${escapeHtml(s.stateAfter)}</title></circle>`,
    );
  });
  out.push(...texts, '</svg>');
  const focus =
    focusX === undefined ? undefined : { from: Math.min(last?.[0] ?? focusX, focusX), to: focusX };
  return { labels, body: out.join('\n'), focus };
}
