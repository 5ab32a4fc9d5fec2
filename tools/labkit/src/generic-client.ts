import type { KvClerk } from '@flotilla/linearizability';
import type { Random } from '@flotilla/transport';
import { type Outcome, outcomeValue } from './clients.js';
import { APPEND_PER_MILLE, PUT_PER_MILLE } from './constants.js';
import { LabError } from './errors.js';
import type { Pacer } from './pacing.js';
import { appendElement, checkClntAppends, preview } from './value-checks.js';

export interface GenericClientOptions {
  /** This client's id: its key in own-key mode, and the `<cli>` of its values. */
  readonly cli: number;
  /** The clerk to use: counted and recorded (`world.counted(clerk, history, cli)`). */
  readonly clerk: KvClerk;
  /** Clients in the test: random keys are drawn from `"0"` … `nclients - 1`. */
  readonly nclients: number;
  /** Random keys (and Puts); else own-key mode, where every Get is checked. */
  readonly randomkeys: boolean;
  /** The test's random draws. */
  readonly random: Random;
  readonly pacer: Pacer;
  /** True once the test tells clients to quit (checked before each operation). */
  readonly done: () => boolean;
}

/**
 * One GenericTest client (kvraft's, also fit for shardkv), until `done()`: own-key mode first
 * Puts `""` to its key; then each turn, `nv = "x <cli> <j> y"`; `rand % 1000 < 500` →
 * Append(key, nv), j++; else with random keys and a second `rand % 1000 < 100` → Put(key,
 * nv), j++; else Get(key), which in own-key mode must equal everything appended so far.
 * Resolves to j. Append's result is not checked (Labs 4–5 return nothing).
 */
export async function genericClient(options: GenericClientOptions): Promise<number> {
  const { cli, clerk, nclients, randomkeys, random, pacer, done } = options;
  let j = 0;
  let last = ''; // only used in own-key mode
  if (!randomkeys) await clerk.put(String(cli), last);
  while (!done()) {
    await pacer.turn(async () => {
      const key = randomkeys ? String(random.int(nclients)) : String(cli);
      const nv = appendElement(cli, j);
      if (random.int(1000) < APPEND_PER_MILLE) {
        await clerk.append(key, nv);
        if (!randomkeys) last += nv;
        j++;
      } else if (randomkeys && random.int(1000) < PUT_PER_MILLE) {
        // Only with random keys: it would break the check after Get otherwise.
        await clerk.put(key, nv);
        j++;
      } else {
        const v = await clerk.get(key);
        if (!randomkeys && v !== last) {
          throw new LabError(
            `get wrong value, key ${key}, wanted:\n${preview(last)}\n, got\n${preview(v)}`,
          );
        }
      }
    });
  }
  return j;
}

/**
 * GenericTest's collection step: for each client in order, wait for its count j (it
 * finishes its operation in flight first), Get its key with `ck` (the main clerk, recorded as
 * client 0), and in own-key mode check its j elements each occur once, in order. A failed
 * client fails here. Resolves to the counts.
 */
export async function collectClients(
  ck: KvClerk,
  clients: readonly Promise<Outcome<number>>[],
  randomkeys: boolean,
): Promise<number[]> {
  const counts: number[] = [];
  for (const [cli, client] of clients.entries()) {
    const j = outcomeValue(await client);
    const v = await ck.get(String(cli));
    if (!randomkeys) checkClntAppends(cli, v, j);
    counts.push(j);
  }
  return counts;
}
