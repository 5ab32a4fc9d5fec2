import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Outcome } from '@flotilla/linearizability';
import { checkOperations, formatResult, kvModel, renderHtml } from '@flotilla/linearizability';
import type { Clock, TimerHandle } from '@flotilla/transport';
import { ChaosError } from '../errors.js';
import { appendKey, type ChaosClerk, putKey, type Workload } from './workload.js';

export interface Verdict {
  /** The checker's verdict on the whole history, final reads included. */
  readonly outcome: Outcome | 'not checked';
  /** Illegal partitions (keys). */
  readonly violations: number;
  /** Acknowledged appends missing from their key's final value. */
  readonly lostWrites: number;
  /** Tokens that occur more than once in a final value (an append applied twice). */
  readonly duplicates: number;
  /** Text in a final value that no append wrote. */
  readonly phantoms: number;
  /** Final reads that got no answer in time: the cluster did not recover once healed. */
  readonly unanswered: readonly string[];
  /** The checker's report when the history is not linearizable. */
  readonly report?: string;
  readonly htmlPath?: string;
}

const TOKEN = /c\d+\.\d+;/g;

/**
 * Reads every key through `clerk` as one more client of the history, then checks: the history
 * is linearizable (`kvModel`, key by key), every acknowledged append is in its key's final value
 * exactly once, and nothing else is. The final reads must succeed within `readTimeoutMs`: a
 * cluster that does not recover once every fault is undone fails the run.
 */
export async function verify(
  workload: Workload,
  clerk: ChaosClerk,
  options: {
    keys: number;
    clientId: number;
    readTimeoutMs: number;
    timeLimitMs: number;
    clock: Clock;
    outDir?: string;
  },
): Promise<Verdict> {
  const finals = new Map<string, string>();
  const unanswered: string[] = [];
  const recorded = workload.recorder;
  for (let k = 0; k < options.keys; k++) {
    for (const key of [appendKey(k), putKey(k)]) {
      const done = recorded.begin(options.clientId, { op: 'get', key });
      try {
        const value = await within(
          options.clock,
          clerk.get(key),
          options.readTimeoutMs,
          `final get(${key})`,
        );
        done(value);
        finals.set(key, value);
      } catch (err) {
        done.giveUp();
        unanswered.push((err as Error).message);
      }
    }
  }
  let lostWrites = 0;
  let duplicates = 0;
  let phantoms = 0;
  for (let k = 0; k < options.keys; k++) {
    const key = appendKey(k);
    const value = finals.get(key);
    // Unread (the cluster did not recover): `unanswered` fails the run; nothing to count.
    if (value === undefined) continue;
    const counts = new Map<string, number>();
    for (const token of value.match(TOKEN) ?? []) counts.set(token, (counts.get(token) ?? 0) + 1);
    if (value.replace(TOKEN, '') !== '') phantoms++;
    const issued = workload.issued.get(key) ?? new Set<string>();
    for (const [token, count] of counts) {
      if (count > 1) duplicates++;
      if (!issued.has(token)) phantoms++;
    }
    for (const token of workload.acknowledged.get(key) ?? []) if (!counts.has(token)) lostWrites++;
  }
  const result = checkOperations(kvModel, recorded.operations(), {
    timeLimitMs: options.timeLimitMs,
  });
  const violations = result.partitions.filter((p) => p.outcome === 'illegal').length;
  if (result.outcome !== 'illegal') {
    return { outcome: result.outcome, violations, lostWrites, duplicates, phantoms, unanswered };
  }
  let htmlPath: string | undefined;
  if (options.outDir !== undefined) {
    htmlPath = join(options.outDir, 'history.html');
    writeFileSync(htmlPath, renderHtml(kvModel, result, { title: 'Chaos run' }));
  }
  return {
    outcome: result.outcome,
    violations,
    lostWrites,
    duplicates,
    phantoms,
    unanswered,
    report: formatResult(kvModel, result),
    ...(htmlPath === undefined ? {} : { htmlPath }),
  };
}

/** The longest stretch of `[from, to]` in which no operation completed, in ms. */
export function longestGap(completions: readonly number[], from: number, to: number): number {
  const times = completions.filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  let longest = 0;
  let last = from;
  for (const t of times) {
    longest = Math.max(longest, t - last);
    last = t;
  }
  return Math.max(longest, to - last);
}

function within<T>(clock: Clock, promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: TimerHandle | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(
      () => reject(new ChaosError('ERR_WAIT_TIMEOUT', `${what} did not complete within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => {
    if (timer !== undefined) clock.clearTimeout(timer);
  });
}
