import type { Clock, TimerHandle } from '@flotilla/transport';
import type { JobResult, JobSummary, ProgressSnapshot } from './job.js';

/**
 * The CLI's progress bar and closing summary. Rendering is a pure function of a coordinator
 * snapshot (so it is unit-tested); `ProgressDisplay` only redraws it on a clock timer.
 *
 * No progress-bar library: the line is ~40 lines of code here, while cli-progress would bring
 * five packages and redraw on a global `setInterval` (banned in src/ by the determinism rule).
 */

const BAR_WIDTH = 20;

function bar(done: number, total: number, width = BAR_WIDTH): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1048576) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1073741824) return `${(bytes / 1048576).toFixed(1)} MiB`;
  return `${(bytes / 1073741824).toFixed(2)} GiB`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** One line: both phases' bars, workers connected, reassignments, time and throughput. */
export function renderProgress(p: ProgressSnapshot): string {
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.bytesMapped / 1048576 / seconds : 0;
  const parts = [
    `map ${bar(p.mapDone, p.mapTotal)} ${p.mapDone}/${p.mapTotal}`,
    `reduce ${bar(p.reduceDone, p.reduceTotal)} ${p.reduceDone}/${p.reduceTotal}`,
    `workers ${p.workersConnected}`,
  ];
  if (p.reassigned > 0) parts.push(`reassigned ${p.reassigned}`);
  if (p.failedAttempts > 0) parts.push(`failed ${p.failedAttempts}`);
  parts.push(formatSeconds(p.elapsedMs), `${rate.toFixed(1)} MB/s`);
  return parts.join('  ');
}

/** The closing summary for people: a few lines. */
export function formatSummary(result: JobResult): string {
  const s = result.summary;
  const lines = [
    `${result.ok ? 'done' : 'FAILED'}: ${s.files} files, ${formatBytes(s.bytes)} in ${formatSeconds(s.elapsedMs)} = ${s.mbPerSec.toFixed(1)} MB/s`,
    `tasks: ${s.files} map + ${s.nReduce} reduce; ${s.reassigned} reassigned after a timeout, ${s.failedAttempts} failed attempts, ${s.duplicates} redundant completions; ${s.workersSeen} workers`,
  ];
  if (result.ok) lines.push(`output: ${s.dir}/mr-out-0 … mr-out-${s.nReduce - 1}`);
  else lines.push(`error: ${result.error.code}: ${result.error.message}`);
  return lines.join('\n');
}

/** The closing summary for machines (`--json`): one object. */
export function summaryRecord(result: JobResult): Record<string, unknown> {
  const s: JobSummary = result.summary;
  return {
    event: result.ok ? 'done' : 'failed',
    ok: result.ok,
    files: s.files,
    bytes: s.bytes,
    seconds: Number((s.elapsedMs / 1000).toFixed(3)),
    mbPerSec: Number(s.mbPerSec.toFixed(2)),
    mapTasks: s.files,
    reduceTasks: s.nReduce,
    reassigned: s.reassigned,
    failedAttempts: s.failedAttempts,
    duplicates: s.duplicates,
    workers: s.workersSeen,
    dir: s.dir,
    outputs: s.outputs,
    ...(result.ok ? {} : { error: { code: result.error.code, message: result.error.message } }),
  };
}

export interface ProgressStream {
  write(text: string): unknown;
}

/**
 * Redraws the progress line in place on a terminal every `intervalMs`; `log` prints a line
 * above it without garbling it. With `enabled` false it only passes log lines through.
 */
export class ProgressDisplay {
  readonly #stream: ProgressStream;
  readonly #clock: Clock;
  readonly #snapshot: () => ProgressSnapshot;
  readonly #enabled: boolean;
  readonly #intervalMs: number;
  #timer: TimerHandle | undefined;
  #drawn = false;

  constructor(options: {
    stream: ProgressStream;
    clock: Clock;
    snapshot: () => ProgressSnapshot;
    enabled: boolean;
    intervalMs?: number;
  }) {
    this.#stream = options.stream;
    this.#clock = options.clock;
    this.#snapshot = options.snapshot;
    this.#enabled = options.enabled;
    this.#intervalMs = options.intervalMs ?? 100;
  }

  start(): void {
    if (!this.#enabled || this.#timer !== undefined) return;
    const tick = (): void => {
      this.#draw();
      this.#timer = this.#clock.setTimeout(tick, this.#intervalMs);
    };
    tick();
  }

  /** Draws the final state and leaves it on screen. */
  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#enabled) return;
    this.#draw();
    this.#stream.write('\n');
    this.#drawn = false;
  }

  log(line: string): void {
    if (this.#drawn) this.#stream.write('\r\x1b[K');
    this.#stream.write(`${line}\n`);
    if (this.#drawn) this.#draw();
  }

  #draw(): void {
    this.#stream.write(`\r\x1b[K${renderProgress(this.#snapshot())}`);
    this.#drawn = true;
  }
}
