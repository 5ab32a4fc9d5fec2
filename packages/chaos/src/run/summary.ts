import type { ChaosSummary } from './runner.js';
import { FAULT_KINDS } from './schedule.js';

/** The end-of-run report, a few lines. */
export function formatSummary(s: ChaosSummary): string {
  const faults = FAULT_KINDS.filter((k) => s.faults[k] > 0)
    .map((k) => `${k} ${s.faults[k]}`)
    .join(', ');
  const lines = [
    `${s.ok ? 'PASS' : 'FAIL'}: chaos ${s.target}, seed ${s.seed}, ${s.servers} server processes, ${s.clerks} clerks, ${(s.elapsedMs / 1000).toFixed(1)} s`,
    `operations: ${s.operations} (${s.acknowledged} acknowledged)`,
    ...(Object.keys(s.changes).length === 0
      ? []
      : [
          `changes meanwhile: ${Object.entries(s.changes)
            .map(([kind, count]) => `${kind} ${count}`)
            .join(', ')}`,
        ]),
    `faults: ${s.episodes} episodes (${faults || 'none'}); partitions of any shape: ${s.partitions}`,
    `history: ${s.outcome}${s.violations > 0 ? `, ${s.violations} illegal key(s)` : ''}; lost writes ${s.lostWrites}, duplicated ${s.duplicates}, phantom ${s.phantoms}`,
    `longest unavailability: ${s.longestUnavailableMs} ms`,
  ];
  for (const exit of s.unexpectedExits) lines.push(`unexpected exit: ${exit}`);
  for (const what of s.unanswered) lines.push(`no answer after the faults: ${what}`);
  for (const err of s.clerkErrors) lines.push(`clerk error: ${err}`);
  if (s.report !== undefined) lines.push(s.report);
  if (s.htmlPath !== undefined) lines.push(`history: ${s.htmlPath}`);
  if (!s.ok) lines.push(`replay the faults: --seed ${s.seed}`);
  return lines.join('\n');
}
