import {
  HistoryRecorder,
  type KvClerk,
  type KvInput,
  type KvOutput,
  recordKvClerk,
} from '@flotilla/linearizability';
import type { Clock, Random } from '@flotilla/transport';

/** A clerk of the service under test; `close()` cuts short what it has in flight. */
export interface ChaosClerk extends KvClerk {
  close(): Promise<void>;
}

export interface WorkloadOptions {
  readonly clerks: number;
  /** Keys `0a…` get appends and gets; keys `0p…` puts and gets. */
  readonly keys: number;
  readonly random: Random;
  /** The history's times are this clock's milliseconds since the workload was made. */
  readonly clock: Clock;
  readonly connect: () => ChaosClerk;
  /** A clerk's pause between two operations: uniform in 0..thinkMs. */
  readonly thinkMs?: number;
}

// Keys begin with their number so that they spread over shardkv's shards (the first byte picks
// the shard: keys 0..9 land on ten different ones).
export const appendKey = (k: number): string => `${k}a`;
export const putKey = (k: number): string => `${k}p`;

/**
 * C clerks in closed loops, every operation recorded. Appended values are unique tokens
 * (`c<clerk>.<n>;`), so the final value of an append key shows each acknowledged append
 * exactly once or it does not; puts write unique values too.
 */
export class Workload {
  readonly recorder: HistoryRecorder<KvInput, KvOutput>;
  /** Acknowledged append tokens, by key. */
  readonly acknowledged = new Map<string, string[]>();
  /** Every append token issued, acknowledged or not, by key. */
  readonly issued = new Map<string, Set<string>>();
  /** When each acknowledged operation returned (ms since the start). */
  readonly completions: number[] = [];
  /** Errors a clerk cannot retry past (anything but being closed at the end). */
  readonly errors: string[] = [];
  readonly #options: WorkloadOptions;
  readonly #clerks: ChaosClerk[] = [];
  readonly #loops: Promise<void>[] = [];
  #stopped = false;

  readonly #start: number;

  constructor(options: WorkloadOptions) {
    this.#options = options;
    this.#start = options.clock.now();
    this.recorder = new HistoryRecorder({ now: () => this.now() });
  }

  /** Milliseconds since the workload was made. */
  now(): number {
    return this.#options.clock.now() - this.#start;
  }

  start(): void {
    for (let id = 0; id < this.#options.clerks; id++) {
      const clerk = this.#options.connect();
      this.#clerks.push(clerk);
      this.#loops.push(this.#loop(id, clerk, this.#options.random.fork()));
    }
  }

  /** Closes every clerk (what is in flight is recorded as given up) and waits for the loops. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#clerks.map((clerk) => clerk.close().catch(() => {})));
    await Promise.all(this.#loops);
  }

  get operations(): number {
    return this.recorder.size;
  }

  async #loop(id: number, clerk: ChaosClerk, random: Random): Promise<void> {
    const recorded = recordKvClerk(this.recorder, id, clerk);
    const { keys, thinkMs = 20 } = this.#options;
    for (let n = 0; !this.#stopped; n++) {
      const k = random.int(keys);
      const roll = random.next();
      try {
        if (roll < 0.5) {
          const key = appendKey(k);
          const token = `c${id}.${n};`;
          setDefault(this.issued, key, () => new Set<string>()).add(token);
          await recorded.append(key, token);
          setDefault(this.acknowledged, key, () => []).push(token);
        } else if (roll < 0.85) {
          await recorded.get(random.next() < 0.7 ? appendKey(k) : putKey(k));
        } else {
          await recorded.put(putKey(k), `c${id}.${n}`);
        }
        this.completions.push(this.now());
      } catch (err) {
        if (this.#stopped) return;
        this.errors.push(`clerk ${id}: ${(err as Error).message}`);
        return;
      }
      if (thinkMs > 0) await sleep(this.#options.clock, random.int(thinkMs + 1));
    }
  }
}

function setDefault<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
