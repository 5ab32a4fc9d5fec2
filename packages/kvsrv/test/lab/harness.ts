import {
  HistoryRecorder,
  type KvInput,
  type KvOutput,
  recordKvClerk,
} from '@flotilla/linearizability';
import {
  type Logger,
  RpcServer,
  type SeededRandom,
  type Sim,
  type SimNetwork,
  type SimulationReport,
  simulateTest,
} from '@flotilla/transport';
import { Clerk, KvServer } from '../../src/index.js';

/** 1 MiB, as the lab's memory tests count it. */
export const MiB = 2 ** 20;

/** The server's name on the network (the lab's server 0). */
const SERVER = '0';

/**
 * The mean pause after a client-loop turn that took no virtual time. In the lab an operation
 * costs real time even on a reliable network (tens of µs); in virtual time a reliable call
 * takes none, so a client loop on a reliable network would hold the clock at one instant and
 * the iteration's 1 s would never end. Such a turn therefore pauses a random 0–2 × this
 * (about 500 operations a second per client); a turn that did take virtual time (the
 * unreliable network's delays) goes on at once, as in the lab.
 *
 * The rate is well below the lab's real one (~7,000 a second for one client) because the
 * linearizability check has a 1 s real-time limit and its cost per key grows with the square
 * of the operations on that key (each search step compares the key's whole value, which grows
 * with every append). At 1 ms (~15,000 operations for 5 clients) TestConcurrent2's check took
 * 0.4–1.0 s on an idle 2-core machine and would often time out (and pass unchecked) under
 * load; at 2 ms (~7,500 operations) it took 0.1–0.45 s over 20 seeds.
 */
export const MEAN_OP_PAUSE_MS = 2;

/** A check of the test failed: the message says what, as the lab's `t.Fatalf` would. */
export class LabError extends Error {
  override readonly name = 'LabError';
}

/** What the lab's tests call on a clerk (a `Clerk`, or one wrapped to record its history). */
export type LabClerk = Pick<Clerk, 'get' | 'put' | 'append'>;

/**
 * Runs lab test `name` in virtual time with `seed` (default `seedFor(name)`, which
 * `FLOTILLA_SEED` overrides). A failure's message carries the seed and how to replay it;
 * passing `simulateTest`'s default limit (the lab's 120 s, of virtual time here) fails the
 * test as the lab's time-out does.
 */
export function runLabTest(
  name: string,
  body: (sim: Sim) => Promise<void>,
  seed?: number,
): Promise<SimulationReport<void>> {
  return simulateTest(name, body, { seed });
}

/**
 * The lab's `config` for kvsrv in virtual time: one `KvServer` on the network as server "0",
 * reliability as asked, clerks each on a fresh end with a random 20-character name.
 */
export class KvConfig {
  readonly sim: Sim;
  readonly net: SimNetwork;
  /** The test's own random draws (the lab's `rand`), seeded from the simulation. */
  readonly random: SeededRandom;
  readonly server: KvServer;
  readonly #clerks = new Map<Clerk, string>();
  readonly #errors: string[] = [];
  #t0 = 0;
  #rpcs0 = 0;
  #ops = 0;

  constructor(sim: Sim, unreliable: boolean) {
    this.sim = sim;
    this.net = sim.net;
    this.random = sim.random.fork();
    // A refused or failed handler call is a bug here: it fails the test at its next check.
    const record = (fields: Record<string, unknown>, message: string): void => {
      this.#errors.push(`server: ${message} ${JSON.stringify(fields)}`);
    };
    const logger: Logger = { warn: record, info: () => {} };
    const rpc = new RpcServer({ logger, clock: sim.clock });
    this.server = new KvServer().register(rpc);
    this.net.addServer(SERVER, rpc);
    this.net.setReliable(!unreliable);
  }

  /** A clerk on a fresh end, connected to the server and enabled. */
  makeClient(): Clerk {
    const name = this.random.string(20);
    const end = this.net.makeEnd(name);
    this.net.connect(name, SERVER);
    this.net.enable(name, true);
    const clerk = new Clerk(end, { clock: this.sim.clock, random: this.sim.random.fork() });
    this.#clerks.set(clerk, name);
    return clerk;
  }

  /** Forgets a clerk whose operations have all completed, and deletes its end. */
  deleteClient(clerk: Clerk): void {
    const name = this.#clerks.get(clerk);
    if (name === undefined) throw new LabError('deleteClient: unknown clerk');
    this.#clerks.delete(clerk);
    this.net.deleteEnd(name);
    void clerk.close();
  }

  /** Clerks made and not yet deleted. */
  get clerkCount(): number {
    return this.#clerks.size;
  }

  /** The lab's Get wrapper: one clerk operation, counted. */
  async get(clerk: LabClerk, key: string): Promise<string> {
    const value = await clerk.get(key);
    this.#ops++;
    return value;
  }

  /** The lab's Put wrapper. */
  async put(clerk: LabClerk, key: string, value: string): Promise<void> {
    await clerk.put(key, value);
    this.#ops++;
  }

  /** The lab's Append wrapper: resolves to the value before the append. */
  async append(clerk: LabClerk, key: string, value: string): Promise<string> {
    const old = await clerk.append(key, value);
    this.#ops++;
    return old;
  }

  /**
   * Ends one turn of a client loop that started at virtual time `turnStart`: if the turn took
   * no virtual time, pauses (see `MEAN_OP_PAUSE_MS`).
   */
  async pace(turnStart: number): Promise<void> {
    if (this.sim.clock.now() !== turnStart) return;
    await this.sim.sleep(this.random.next() * 2 * MEAN_OP_PAUSE_MS);
  }

  /** `n` characters, each uniform from the 52 letters a–z, A–Z (the lab's `randValue`). */
  randValue(n: number): string {
    const bytes = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      const r = this.random.int(52);
      bytes[i] = r < 26 ? 0x61 + r : 0x41 + r - 26;
    }
    return bytes.toString('latin1');
  }

  /** Sleeps `ms` of virtual time, then fails if a background failure was recorded. */
  async sleep(ms: number): Promise<void> {
    await this.sim.sleep(ms);
    this.checkErrors();
  }

  /** Fails the test (the lab's `t.Fatalf`). */
  fatal(message: string): never {
    throw new LabError(message);
  }

  checkErrors(): void {
    const err = this.#errors[0];
    if (err !== undefined) throw new LabError(err);
  }

  /** Prints the test's description and starts its counters. */
  begin(description: string): void {
    console.log(`${description} ...`);
    this.#t0 = this.sim.clock.now();
    this.#rpcs0 = this.net.getTotalCount();
    this.#ops = 0;
  }

  /**
   * Checks pending failures, then prints the lab's Passed line. (The lab's time limit needs no
   * check here: `runLabTest`'s simulation fails the moment virtual time passes it.)
   */
  end(): void {
    this.checkErrors();
    const seconds = (this.sim.clock.now() - this.#t0) / 1000;
    const nrpc = this.net.getTotalCount() - this.#rpcs0;
    console.log(
      `  ... Passed --  ${seconds.toFixed(1).padStart(4)} ${String(nrpc).padStart(5)} ${String(this.#ops).padStart(5)}`,
    );
  }

  /**
   * A history recorder on the virtual clock: times are ns of virtual time plus one per recorded
   * event, so they stay meaningful in a visualization while events at the same virtual instant
   * keep the order in which this process saw them (exact, and sound: the process runs one
   * event at a time).
   */
  recorder(): HistoryRecorder<KvInput, KvOutput> {
    let tick = 0;
    return new HistoryRecorder<KvInput, KvOutput>({
      now: () => Math.round(this.sim.clock.now() * 1e6) + tick++,
    });
  }

  /** `clerk` with every operation recorded as client `cli`'s (kvsrv: Append returns the old value). */
  recorded(recorder: HistoryRecorder<KvInput, KvOutput>, cli: number, clerk: Clerk): LabClerk {
    return recordKvClerk(recorder, cli, clerk, { appendReturnsOld: true });
  }
}

/** A long value shortened for a failure message. */
export function preview(value: string): string {
  if (value.length <= 300) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, 150))}…(${value.length} chars)…${JSON.stringify(value.slice(-150))}`;
}
