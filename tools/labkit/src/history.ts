import {
  assertLinearizable,
  type CheckResult,
  HistoryRecorder,
  type KvClerk,
  type KvInput,
  type KvOutput,
  kvModel,
  NotLinearizableError,
  recordKvClerk,
} from '@flotilla/linearizability';
import type { Clock } from '@flotilla/transport';
import { LINEARIZABILITY_CHECK_TIMEOUT_MS } from './constants.js';

export interface HistoryCheckOptions {
  /** Where info lines go; default console.log. */
  readonly log?: (line: string) => void;
  /** Where the HTML of an illegal history goes; default a new file in the OS temp dir. */
  readonly htmlPath?: string | false;
  /** Default the lab's 1 s; only tests of the harness change it. */
  readonly timeLimitMs?: number;
  /** The checker's clock for its time limit (default real time, as Porcupine's). */
  readonly now?: () => number;
}

/**
 * The lab's `OpLog` for Labs 4–5: every recorded clerk call as a `kvModel` operation (Append
 * returns nothing), checked with a 1 s limit, partitioned by key.
 *
 * Times are ns of virtual time plus one per recorded event: meaningful in a visualization,
 * while events at one virtual instant keep the order this process saw them in (exact, since
 * the simulation runs one event at a time).
 */
export class KvHistory {
  readonly recorder: HistoryRecorder<KvInput, KvOutput>;

  constructor(clock: Clock) {
    let tick = 0;
    this.recorder = new HistoryRecorder<KvInput, KvOutput>({
      now: () => Math.round(clock.now() * 1e6) + tick++,
    });
  }

  /** `clerk` with every operation recorded as client `cli`'s. */
  record(cli: number, clerk: KvClerk): KvClerk {
    return recordKvClerk(this.recorder, cli, clerk);
  }

  get size(): number {
    return this.recorder.size;
  }

  /**
   * The lab's end-of-GenericTest check. Illegal: writes the visualization, prints where, and
   * throws `NotLinearizableError` (its message names the file). Unknown (time limit): an info
   * line, and passes.
   */
  check(options: HistoryCheckOptions = {}): CheckResult<KvInput, KvOutput> {
    const log = options.log ?? ((line: string) => console.log(line));
    const operations = this.recorder.operations();
    try {
      const result = assertLinearizable(kvModel, operations, {
        timeLimitMs: options.timeLimitMs ?? LINEARIZABILITY_CHECK_TIMEOUT_MS,
        ...(options.now === undefined ? {} : { now: options.now }),
        ...(options.htmlPath === undefined ? {} : { htmlPath: options.htmlPath }),
        onUnknown: (message) => log(`info: ${message}`),
      });
      if (result.outcome === 'ok') {
        log(
          `  linearizable: ${operations.length} operations checked in ${result.elapsedMs.toFixed(0)} ms`,
        );
      }
      return result;
    } catch (err) {
      if (err instanceof NotLinearizableError && err.htmlPath !== undefined) {
        log(`info: wrote history visualization to ${err.htmlPath}`);
      }
      throw err;
    }
  }
}
