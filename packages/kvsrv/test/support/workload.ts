import { performance } from 'node:perf_hooks';
import {
  assertLinearizable,
  HistoryRecorder,
  type KvInput,
  type KvOutput,
  kvModel,
  recordKvClerk,
} from '@flotilla/linearizability';
import type { Random } from '@flotilla/transport';
import type { Clerk } from '../../src/index.js';
import { sleep } from './procs.js';

/**
 * The lab's GenericTest (own-key mode) and UnreliableOneKey workloads, against clerks made by
 * the caller (see /work/shared/spec/kvsrv.md), with a history recorded on a real monotonic
 * clock and checked for linearizability at the end.
 */

export type KvRecorder = HistoryRecorder<KvInput, KvOutput>;

export function realTimeRecorder(): KvRecorder {
  return new HistoryRecorder<KvInput, KvOutput>({ now: () => performance.now() });
}

export interface GenericOptions {
  readonly nclients: number;
  readonly iterations: number;
  /** Real time of client activity per iteration (the lab's 1 s). */
  readonly activityMs: number;
  /** A fresh clerk per client per iteration (the lab's); closed by the workload. */
  readonly makeClerk: () => Clerk;
  /** The checking clerk, used for the final Gets (recorded as client 0). */
  readonly main: Clerk;
  readonly random: Random;
  readonly recorder: KvRecorder;
}

export interface GenericReport {
  /** Client operations completed (the lab's "clerk ops"), final Gets included. */
  readonly ops: number;
  readonly appends: number;
  readonly gets: number;
}

function element(cli: number, j: number): string {
  return `x ${cli} ${j} y`;
}

/** One own-key client of one iteration; resolves to the number of appends it completed. */
async function ownKeyClient(
  cli: number,
  clerk: Clerk,
  options: GenericOptions,
  stop: { stopped: boolean },
  counts: { ops: number; appends: number; gets: number },
): Promise<number> {
  const recorded = recordKvClerk(options.recorder, cli, clerk, { appendReturnsOld: true });
  const key = String(cli);
  let j = 0;
  let last = '';
  await recorded.put(key, '');
  counts.ops++;
  while (!stop.stopped) {
    const nv = element(cli, j);
    if (options.random.int(1000) < 500) {
      const l = await recorded.append(key, nv);
      counts.ops++;
      counts.appends++;
      if (j > 0 && !l.includes(element(cli, j - 1))) {
        throw new Error(
          `client ${cli}: missing element ${element(cli, j - 1)} in Append result ${JSON.stringify(l)}`,
        );
      }
      if (l.includes(nv)) {
        throw new Error(
          `client ${cli}: element ${nv} already in Append result ${JSON.stringify(l)}`,
        );
      }
      if (l !== last) {
        throw new Error(
          `client ${cli}: Append returned ${JSON.stringify(l)}, expected ${JSON.stringify(last)}`,
        );
      }
      last += nv;
      j++;
    } else {
      const v = await recorded.get(key);
      counts.ops++;
      counts.gets++;
      if (v !== last) {
        throw new Error(
          `client ${cli}: Get(${key}) = ${JSON.stringify(v)}, expected ${JSON.stringify(last)}`,
        );
      }
    }
  }
  return j;
}

/**
 * Checks that `value` holds each of client `cli`'s first `count` elements exactly once, at
 * strictly increasing offsets (the lab's checkClntAppends), and nothing else of that client.
 */
export function checkClientAppends(cli: number, value: string, count: number): void {
  let lastOffset = -1;
  for (let j = 0; j < count; j++) {
    const wanted = element(cli, j);
    const offset = value.indexOf(wanted);
    if (offset < 0) throw new Error(`${cli} missing element ${wanted} in Append result`);
    if (value.lastIndexOf(wanted) !== offset) throw new Error(`duplicate element ${wanted}`);
    if (offset <= lastOffset) throw new Error(`wrong order for element ${wanted}`);
    lastOffset = offset;
  }
  if (value.includes(element(cli, count))) {
    throw new Error(`element ${element(cli, count)} appears but was never acknowledged`);
  }
}

/** GenericTest(nclients, unreliable, randomkeys = false), then the linearizability check. */
export async function genericOwnKeys(options: GenericOptions): Promise<GenericReport> {
  const counts = { ops: 0, appends: 0, gets: 0 };
  const main = recordKvClerk(options.recorder, 0, options.main, { appendReturnsOld: true });
  for (let iteration = 0; iteration < options.iterations; iteration++) {
    const stop = { stopped: false };
    const clerks = Array.from({ length: options.nclients }, () => options.makeClerk());
    try {
      const clients = clerks.map((clerk, cli) => ownKeyClient(cli, clerk, options, stop, counts));
      // A client that fails stops the others at once (and the test with its error).
      const failed = Promise.all(clients).then(
        () => undefined,
        (err: unknown) => {
          stop.stopped = true;
          throw err;
        },
      );
      await Promise.race([sleep(options.activityMs), failed]);
      stop.stopped = true;
      const js = await Promise.all(clients);
      for (let cli = 0; cli < options.nclients; cli++) {
        const value = await main.get(String(cli));
        counts.ops++;
        const j = js[cli] ?? 0;
        checkClientAppends(cli, value, j);
        // Own key, one writer: the value is exactly the acknowledged elements, in order.
        const expected = Array.from({ length: j }, (_, k) => element(cli, k)).join('');
        if (value !== expected) {
          throw new Error(
            `final Get(${cli}) = ${JSON.stringify(value)}, expected ${JSON.stringify(expected)}`,
          );
        }
      }
    } finally {
      await Promise.all(clerks.map((clerk) => clerk.close()));
    }
  }
  return counts;
}

/**
 * The lab's UnreliableOneKey: the main clerk Puts `key` = ""; `nclients` clerks each do
 * `nappends` sequential Appends of "x <me> <n> y"; every returned old value must not hold the
 * element just appended, and must hold the client's previous one; at the end each client's
 * elements occur exactly once, in order. Also recorded, so the caller can check linearizability.
 */
export async function unreliableOneKey(options: {
  readonly nclients: number;
  readonly nappends: number;
  readonly makeClerk: () => Clerk;
  readonly main: Clerk;
  readonly recorder: KvRecorder;
  readonly key?: string;
}): Promise<{ ops: number; value: string }> {
  const key = options.key ?? 'k';
  const main = recordKvClerk(options.recorder, 0, options.main, { appendReturnsOld: true });
  await main.put(key, '');
  let ops = 1;
  const clerks = Array.from({ length: options.nclients }, () => options.makeClerk());
  try {
    await Promise.all(
      clerks.map(async (clerk, i) => {
        const cli = i + 1;
        const recorded = recordKvClerk(options.recorder, cli, clerk, { appendReturnsOld: true });
        for (let n = 0; n < options.nappends; n++) {
          const nv = element(cli, n);
          const old = await recorded.append(key, nv);
          ops++;
          if (old.includes(nv)) throw new Error(`${cli}: element ${nv} already in ${old}`);
          if (n > 0 && !old.includes(element(cli, n - 1))) {
            throw new Error(`${cli}: element ${element(cli, n - 1)} missing from ${old}`);
          }
        }
      }),
    );
  } finally {
    await Promise.all(clerks.map((clerk) => clerk.close()));
  }
  const value = await main.get(key);
  ops++;
  for (let i = 0; i < options.nclients; i++) checkClientAppends(i + 1, value, options.nappends);
  const total = options.nclients * options.nappends;
  const elements = value.match(/x \d+ \d+ y/g) ?? [];
  if (elements.length !== total || elements.join('') !== value) {
    throw new Error(`expected exactly ${total} elements, got ${JSON.stringify(value)}`);
  }
  return { ops, value };
}

/**
 * The lab's porcupine check with the KV model ("unknown" passes with an info line). The
 * limit is 5 s rather than the lab's 1 s: real-time histories here hold thousands of ops.
 */
export function checkLinearizable(recorder: KvRecorder): void {
  assertLinearizable(kvModel, recorder.operations(), {
    timeLimitMs: 5000,
    onUnknown: (message) => console.info(message),
  });
}
