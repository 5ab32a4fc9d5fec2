import type { Clock, SeededRandom, SimNetwork } from '@flotilla/transport';
import { END_NAME_LENGTH } from './constants.js';
import type { ClerkFactory } from './contract.js';
import { LabError } from './errors.js';

interface ClerkRecord {
  /** `ends[j]`: the clerk's end to the cluster's server j (by server id, not shuffled). */
  readonly ends: readonly string[];
  /** Ends the clerk made with `env.makeEnd`. */
  readonly made: string[];
}

/**
 * The clerks of a world and their ends (the lab's `cfg.clerks`): which end of a clerk goes to
 * which server, so a test can enable and disable them by server id while the clerk itself
 * only sees them shuffled.
 */
export class ClerkRegistry {
  readonly #net: SimNetwork;
  readonly #clock: Clock;
  readonly #random: SeededRandom;
  readonly #clerks = new Map<object, ClerkRecord>();

  constructor(net: SimNetwork, clock: Clock, random: SeededRandom) {
    this.#net = net;
    this.#clock = clock;
    this.#random = random;
  }

  /**
   * A clerk with one fresh end per server in `servers` (network names, by server id), handed
   * to `factory` in a random order (the lab's `random_handles`), enabled only toward `to`.
   */
  make<C extends object>(
    servers: readonly string[],
    to: readonly number[],
    factory: ClerkFactory<C>,
  ): C {
    const net = this.#net;
    const names = servers.map(() => this.#random.string(END_NAME_LENGTH));
    const ends = names.map((name, j) => {
      const end = net.makeEnd(name);
      net.connect(name, servers[j] as string);
      return end;
    });
    const record: ClerkRecord = { ends: names, made: [] };
    const clerk = factory(this.#random.shuffle(ends), {
      clock: this.#clock,
      random: this.#random.fork(),
      makeEnd: (serverName) => {
        const name = this.#random.string(END_NAME_LENGTH);
        const end = net.makeEnd(name);
        net.connect(name, serverName);
        net.enable(name, true);
        record.made.push(name);
        return end;
      },
    });
    if (this.#clerks.has(clerk))
      throw new LabError('makeClient: the factory returned a known clerk');
    this.#clerks.set(clerk, record);
    this.#enable(record, to, true);
    return clerk;
  }

  /** The lab's `ConnectClient(ck, to)`: enables the clerk's ends toward the servers in `to`. */
  connect(clerk: object, to: readonly number[]): void {
    this.#enable(this.#record(clerk), to, true);
  }

  /** The lab's `DisconnectClient(ck, from)`. */
  disconnect(clerk: object, from: readonly number[]): void {
    this.#enable(this.#record(clerk), from, false);
  }

  /**
   * The lab's `deleteClient(ck)`: forgets the clerk and deletes its ends from the network
   * (a later call on one gets no reply); a clerk with a `close()` is closed.
   */
  delete(clerk: object): void {
    const record = this.#record(clerk);
    this.#clerks.delete(clerk);
    for (const name of [...record.ends, ...record.made]) this.#net.deleteEnd(name);
    void closeQuietly(clerk);
  }

  /** Clerks made and not deleted. */
  get size(): number {
    return this.#clerks.size;
  }

  /** Closes every clerk still known (cleanup: clerks stop before servers). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#clerks.keys()].map(closeQuietly));
  }

  #enable(record: ClerkRecord, servers: readonly number[], enabled: boolean): void {
    for (const j of servers) {
      const name = record.ends[j];
      if (name === undefined) throw new RangeError(`no server ${j} among the clerk's ends`);
      this.#net.enable(name, enabled);
    }
  }

  #record(clerk: object): ClerkRecord {
    const record = this.#clerks.get(clerk);
    if (record === undefined) throw new LabError('unknown clerk (deleted, or made elsewhere)');
    return record;
  }
}

/** `close()` if the clerk has one; a clerk's close is not the test's failure. */
async function closeQuietly(clerk: object): Promise<void> {
  const close = (clerk as { close?: unknown }).close;
  if (typeof close !== 'function') return;
  try {
    await close.call(clerk);
  } catch {
    // DESIGN.md: close() never rejects; a clerk that does is not what this test checks.
  }
}
