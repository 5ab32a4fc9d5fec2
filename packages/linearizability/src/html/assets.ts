/** The page's stylesheet: system fonts only, nothing fetched. */
export const STYLE = `
:root { --ok: #2f7d3f; --bad: #c62828; --unk: #9a6700; --ink: #1f2328; --mute: #656d76; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 28px 40px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
h1 .badge { vertical-align: 2px; }
.meta { color: var(--mute); margin: 0 0 14px; }
code, .mono, td.op, .why li, .why .state { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; color: #fff; }
.badge.ok { background: var(--ok); } .badge.illegal { background: var(--bad); } .badge.unknown { background: var(--unk); }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 3px 10px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { font-weight: 600; color: var(--mute); font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary { margin: 0 0 16px; }
table.summary a { color: inherit; }
.legend { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; color: var(--mute); font-size: 12.5px; margin: 0 0 18px; }
.legend svg { vertical-align: middle; margin-right: 4px; }
section.partition { border: 1px solid var(--line); border-radius: 8px; margin: 0 0 16px; }
section.partition.illegal { border-color: #e8a5a5; box-shadow: 0 0 0 3px #fdecec; }
section.partition > details > summary { cursor: pointer; padding: 10px 14px; font-weight: 600; list-style-position: inside; }
section.partition > details > summary .detail { font-weight: 400; color: var(--mute); margin-left: 6px; }
.body { padding: 0 14px 12px; }
.why { background: #fff6f6; border: 1px solid #f3c7c7; border-radius: 6px; padding: 10px 14px; margin: 0 0 12px; }
.why p { margin: 0 0 6px; }
.why ul, .why ol { margin: 4px 0 8px; padding-left: 28px; }
.why li { margin: 2px 0; }
.why .verdict { font-family: system-ui, sans-serif; color: var(--bad); font-size: 12.5px; }
.why .verdict.dead-end { color: #8a6200; }
.why .recent { color: var(--mute); }
.timeline-wrap { display: flex; border: 1px solid #eaeef2; border-radius: 6px; background: #fff; overflow: hidden; }
.timeline-wrap .labels { flex: none; border-right: 1px solid #d8dee4; }
.scroller { overflow-x: auto; flex: 1; min-width: 0; }
svg.timeline { display: block; font: 12px ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
svg.timeline .row { fill: #fff; } svg.timeline .row.odd { fill: #f6f8fa; }
svg.timeline .client { text-anchor: end; fill: var(--mute); font-family: system-ui, "DejaVu Sans", sans-serif; }
svg.timeline .box { stroke-width: 1.2; }
svg.timeline .op.lin .box { fill: #dcefdf; stroke: #5b9a68; }
svg.timeline .op.rest .box { fill: #eef0f2; stroke: #a8b0b8; }
svg.timeline .op.stuck .box { fill: #fde0df; stroke: var(--bad); stroke-width: 2; }
svg.timeline .op.stuck.dead-end .box { fill: #fff3d1; stroke: #b58100; stroke-width: 1.6; }
svg.timeline .op.pending .box { stroke-dasharray: 4 3; }
svg.timeline .tail { stroke: #8c959f; stroke-width: 1.4; stroke-dasharray: 5 4; }
svg.timeline .op:hover .box { stroke: var(--ink); stroke-width: 2; }
div.scroller > svg.timeline { min-width: 100%; }
svg.timeline .no-reply { text-anchor: end; font: italic 10px system-ui, "DejaVu Sans", sans-serif; fill: var(--mute); }
svg.timeline .label { fill: var(--ink); pointer-events: none; paint-order: stroke; stroke: rgba(255,255,255,0.85); stroke-width: 3px; }
svg.timeline .label.rest { fill: #57606a; }
svg.timeline .lin-path { fill: none; stroke: var(--ok); stroke-width: 1.6; stroke-opacity: 0.75; }
svg.timeline .lin-point { fill: var(--ok); stroke: #fff; stroke-width: 1; }
svg.timeline .stuck-path { stroke: var(--bad); stroke-width: 1.4; stroke-dasharray: 3 3; }
svg.timeline .stuck-mark circle { fill: var(--bad); }
svg.timeline .stuck-mark.dead-end circle { fill: #b58100; }
svg.timeline .stuck-path.dead-end { stroke: #b58100; } svg.timeline .stuck-mark path { stroke: #fff; stroke-width: 1.6; }
details.steps { margin-top: 10px; }
details.steps > summary { cursor: pointer; color: var(--mute); }
details.steps table { margin-top: 6px; }
td.state { max-width: 640px; overflow-wrap: anywhere; }
`;

/**
 * The page's only script: scroll each illegal partition's time line to where it breaks — the
 * end of the longest linearization at 25% of the view, or, if the first operation that stops
 * it would then be out of view, that operation at 75% (the page reads fine without it).
 */
export const SCRIPT = `
for (const scroller of document.querySelectorAll('.scroller[data-from]')) {
  const from = Number(scroller.dataset.from);
  const to = Number(scroller.dataset.to);
  const width = scroller.clientWidth;
  let left = from - width * 0.25;
  if (to - left > width * 0.75) left = to - width * 0.75;
  scroller.scrollLeft = Math.max(0, left);
}
`;
