import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOperations, explainResult } from './check.js';
import { NotLinearizableError } from './errors.js';
import { formatResult } from './explain.js';
import { renderHtml } from './html/page.js';
import type { CheckOptions, CheckResult, Model, Operation } from './types.js';

export interface AssertOptions extends CheckOptions {
  /**
   * Where to write the HTML visualization when the history is illegal; default a new file in
   * the OS temp directory; `false` for none.
   */
  htmlPath?: string | false;
  /** Told when the time limit ran out (the lab prints an info line and passes). */
  onUnknown?: (message: string) => void;
}

/**
 * The labs' rule for a test's history: check it (time limit default 1 s, as the lab's); if
 * illegal, write the HTML visualization and throw `NotLinearizableError` with a summary of
 * where it breaks; if the time ran out, report through `onUnknown` and pass.
 */
export function assertLinearizable<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  options: AssertOptions = {},
): CheckResult<I, O> {
  const checked = checkOperations(model, operations, { timeLimitMs: 1000, ...options });
  if (checked.outcome === 'unknown') {
    options.onUnknown?.(
      `linearizability check timed out, assuming history is ok (${formatResult(model, checked)})`,
    );
  }
  if (checked.outcome !== 'illegal') return checked;
  const result = explainResult(model, checked);
  let htmlPath: string | undefined;
  if (options.htmlPath !== false) {
    htmlPath =
      options.htmlPath ?? join(mkdtempSync(join(tmpdir(), 'flotilla-lincheck-')), 'history.html');
    writeFileSync(htmlPath, renderHtml(model, result));
  }
  const where = htmlPath === undefined ? '' : `\nvisualization: ${htmlPath}`;
  throw new NotLinearizableError(
    `history is not linearizable: ${formatResult(model, result)}${where}`,
    htmlPath,
  );
}
