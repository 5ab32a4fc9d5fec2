import { explainResult } from '../check.js';
import {
  describeKey,
  describeOperation,
  explainPartition,
  explainVerdict,
  type PartitionReport,
  splitStuck,
} from '../explain.js';
import { toJson } from '../export-json.js';
import type { CheckResult, HistoryOperation, Model, PartitionResult } from '../types.js';
import { SCRIPT, STYLE } from './assets.js';
import { escapeHtml, scriptJson } from './escape.js';
import { renderTimeline, shortLabel, type TimelineOp } from './timeline-svg.js';

export interface HtmlOptions {
  /** Page title; default "Linearizability check". */
  title?: string;
  /** Steps shown before the failure point in the summary box (default 5). */
  recentSteps?: number;
}

const VERDICT = { ok: 'linearizable', illegal: 'NOT linearizable', unknown: 'unknown' } as const;

function time(t: number): string {
  return t === Number.POSITIVE_INFINITY ? '—' : String(t);
}

/**
 * A self-contained HTML page (inline CSS, SVG and a few lines of script; no network) showing,
 * per partition, each client's operations on a time line, the longest linearization found, and
 * for an illegal partition the operations that could not go next. Illegal partitions come
 * first and open; the rest are collapsed. The result's JSON (`toJson`) is embedded in a
 * `<script type="application/json" id="lincheck-data">` element.
 */
export function renderHtml<S, I, O>(
  model: Model<S, I, O>,
  checked: CheckResult<I, O>,
  options: HtmlOptions = {},
): string {
  const result = explainResult(model, checked);
  const title = options.title ?? 'Linearizability check';
  const rank = { illegal: 0, unknown: 1, ok: 2 } as const;
  const ordered = result.partitions
    .map((partition, i) => ({ partition, i }))
    .sort((a, b) => rank[a.partition.outcome] - rank[b.partition.outcome] || a.i - b.i);
  const reports = new Map(
    ordered.map(({ partition, i }) => [i, explainPartition(model, result, partition)]),
  );
  const counts = { ok: 0, illegal: 0, unknown: 0 };
  for (const p of result.partitions) counts[p.outcome]++;
  const parts = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}: ${VERDICT[result.outcome]}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)} <span class="badge ${result.outcome}">${VERDICT[result.outcome]}</span></h1>`,
    `<p class="meta">${model.name ? `model <code>${escapeHtml(model.name)}</code> · ` : ''}${result.history.length} operations · ${result.partitions.length} partition(s): ${counts.illegal} illegal, ${counts.unknown} unknown, ${counts.ok} ok · checked in ${result.elapsedMs.toFixed(1)} ms</p>`,
    summaryTable(result, ordered, reports),
    LEGEND,
  ];
  for (const { partition, i } of ordered) {
    parts.push(
      partitionSection(model, result, partition, reports.get(i) as PartitionReport, i, options),
    );
  }
  parts.push(
    `<script type="application/json" id="lincheck-data">${scriptJson(toJson(model, result))}</script>`,
    `<script>${SCRIPT}</script>`,
    '</body></html>',
  );
  return parts.join('\n');
}

function summaryTable<I, O>(
  result: CheckResult<I, O>,
  ordered: { partition: PartitionResult; i: number }[],
  reports: Map<number, PartitionReport>,
): string {
  if (result.partitions.length <= 1) return '';
  const rows = ordered.map(({ partition, i }) => {
    const clients = new Set(partition.operations.map((k) => result.history[k]?.clientId));
    const linearized = reports.get(i)?.linearization.length ?? 0;
    return `<tr><td><a href="#p${i}">${escapeHtml(describeKey(partition.key))}</a></td><td><span class="badge ${partition.outcome}">${partition.outcome}</span></td><td class="num">${partition.operations.length}</td><td class="num">${clients.size}</td><td class="num">${linearized}</td><td class="num">${partition.steps}</td></tr>`;
  });
  return `<table class="summary"><tr><th>partition</th><th>outcome</th><th class="num">operations</th><th class="num">clients</th><th class="num">longest linearization</th><th class="num">search steps</th></tr>${rows.join('')}</table>`;
}

const swatch = (fill: string, stroke: string, dash = ''): string =>
  `<svg width="26" height="14"><rect x="1" y="1" width="24" height="12" rx="3" fill="${fill}" stroke="${stroke}" stroke-width="1.4"${dash ? ` stroke-dasharray="${dash}"` : ''}/></svg>`;

const LEGEND = `<div class="legend"><span>${swatch('#dcefdf', '#5b9a68')}in the linearization</span><span>${swatch('#eef0f2', '#a8b0b8')}not reached</span><span>${swatch('#fde0df', '#c62828')}cannot be linearized here</span><span>${swatch('#fff3d1', '#b58100')}fits, but leads nowhere</span><span>${swatch('#fff', '#888', '4 3')}no reply (outcome unknown)</span><span><svg width="40" height="14"><polyline points="3,10 18,4 36,10" fill="none" stroke="#2f7d3f" stroke-width="1.6"/><circle cx="18" cy="4" r="3" fill="#2f7d3f"/></svg>linearization order (hover for states)</span></div>`;

function partitionSection<S, I, O>(
  model: Model<S, I, O>,
  result: CheckResult<I, O>,
  partition: PartitionResult,
  report: PartitionReport,
  i: number,
  options: HtmlOptions,
): string {
  const op = (index: number): HistoryOperation<I, O> =>
    result.history[index] as HistoryOperation<I, O>;
  const describe = (index: number): string => describeOperation(model, op(index));
  const ops: TimelineOp[] = partition.operations.map((index) => {
    const o = op(index);
    const description = describe(index);
    return {
      index,
      clientId: o.clientId,
      call: o.call,
      return: o.return,
      gaveUp: o.gaveUp,
      label: shortLabel(description),
      description,
    };
  });
  const n = partition.operations.length;
  const lin = report.linearization.length;
  const detail =
    partition.outcome === 'ok'
      ? `${n} operations linearized`
      : partition.outcome === 'illegal'
        ? `the longest linearization covers ${lin} of ${n} operations`
        : partition.searched
          ? `time ran out${lin > 0 ? ` with ${lin} of ${n} operations linearized` : ''}`
          : 'not checked: the check stopped at an illegal partition, or time ran out first';
  const timeline = renderTimeline({
    id: String(i),
    ops,
    linearization: report.linearization,
    stuck: report.stuck,
  });
  const focus = timeline.focus;
  const open = partition.outcome !== 'ok' || result.partitions.length === 1 ? ' open' : '';
  return [
    `<section class="partition ${partition.outcome}" id="p${i}"><details${open}>`,
    `<summary>${escapeHtml(describeKey(partition.key))} <span class="badge ${partition.outcome}">${partition.outcome}</span><span class="detail">${detail}</span></summary>`,
    '<div class="body">',
    partition.outcome === 'illegal' ? whyBox(model, result, report, describe, options) : '',
    `<div class="timeline-wrap"><div class="labels">${timeline.labels}</div><div class="scroller"${focus === undefined ? '' : ` data-from="${Math.round(focus.from)}" data-to="${Math.round(focus.to)}"`}>${timeline.body}</div></div>`,
    stepsTable(report, op, describe),
    '</div></details></section>',
  ].join('\n');
}

function whyBox<S, I, O>(
  _model: Model<S, I, O>,
  result: CheckResult<I, O>,
  report: PartitionReport,
  describe: (index: number) => string,
  options: HtmlOptions,
): string {
  const recent = options.recentSteps ?? 5;
  const steps = report.linearization;
  const state = steps.at(-1)?.stateAfter ?? report.initialState;
  const tail = steps.slice(Math.max(0, steps.length - recent));
  const client = (index: number): number | undefined => result.history[index]?.clientId;
  const recentItems = tail.map(
    (s) => `<li class="recent">client ${client(s.index)}: ${escapeHtml(describe(s.index))}</li>`,
  );
  const { shown, others } = splitStuck(report.stuck);
  const stuckItems = shown.map(
    (s) =>
      `<li>#${s.index} client ${client(s.index)}: ${escapeHtml(describe(s.index))} <span class="verdict ${s.verdict}">— ${explainVerdict(s.verdict)}${s.detail === undefined ? '' : `: ${escapeHtml(s.detail)}`}</span></li>`,
  );
  if (others.length > 0) {
    stuckItems.push(
      `<li class="recent">and ${others.length} more that fit here but lead nowhere: ${others.map((s) => `#${s.index}`).join(', ')}</li>`,
    );
  }
  return [
    '<div class="why">',
    steps.length
      ? `<p><strong>Where it breaks.</strong> The longest linearization found has ${steps.length} operation(s), ending with:</p><ol start="${steps.length - tail.length + 1}">${recentItems.join('')}</ol>`
      : '<p><strong>Where it breaks.</strong> Not even the first operation can be linearized.</p>',
    `<p>The state is then <span class="state mono">${escapeHtml(state)}</span>, and it cannot go on:</p>`,
    `<ul>${stuckItems.join('')}</ul>`,
    '</div>',
  ].join('\n');
}

function stepsTable<I, O>(
  report: PartitionReport,
  op: (index: number) => HistoryOperation<I, O>,
  describe: (index: number) => string,
): string {
  if (report.linearization.length === 0) return '';
  const rows = report.linearization.map((s, j) => {
    const o = op(s.index);
    return `<tr><td class="num">${j + 1}</td><td class="num">#${s.index}</td><td class="num">${o.clientId}</td><td class="op">${escapeHtml(describe(s.index))}</td><td class="num">${time(o.call)}</td><td class="num">${time(o.return)}</td><td class="state mono">${escapeHtml(s.stateAfter)}</td></tr>`;
  });
  const label = report.outcome === 'ok' ? 'Linearization' : 'Longest partial linearization';
  return `<details class="steps"><summary>${label} (${report.linearization.length} steps)</summary><table><tr><th class="num">step</th><th class="num">op</th><th class="num">client</th><th>operation</th><th class="num">call</th><th class="num">return</th><th>state after</th></tr>${rows.join('')}</table></details>`;
}
