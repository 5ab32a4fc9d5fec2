import { assertLinearizable, kvModel } from '@flotilla/linearizability';
import type { Sim } from '@flotilla/transport';
import type { Clerk } from '../../src/index.js';
import { KvConfig, LabError, preview } from './harness.js';

/** What a client task ended with: its result, or why it failed. */
type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/**
 * The lab's `spawn_clients_and_wait` without the wait: starts `ncli` clients, each on a fresh
 * clerk deleted once its function returns, and gives each client's outcome. The promises never
 * reject, so a failing client cannot become an unhandled rejection before the test looks.
 */
function spawnClients<T>(
  cfg: KvConfig,
  ncli: number,
  fn: (cli: number, clerk: Clerk) => Promise<T>,
): Promise<Outcome<T>>[] {
  return Array.from({ length: ncli }, async (_, cli): Promise<Outcome<T>> => {
    try {
      const clerk = cfg.makeClient();
      const value = await fn(cli, clerk);
      cfg.deleteClient(clerk);
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error };
    }
  });
}

/** Spawns the clients and waits for all of them; the first failure fails the test. */
async function spawnClientsAndWait<T>(
  cfg: KvConfig,
  ncli: number,
  fn: (cli: number, clerk: Clerk) => Promise<T>,
): Promise<T[]> {
  const outcomes = await Promise.all(spawnClients(cfg, ncli, fn));
  return outcomes.map((outcome) => {
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  });
}

/** Client `clnt`'s `count` appends each occur exactly once in `v`, in order. */
export function checkClntAppends(clnt: number, v: string, count: number): void {
  let lastoff = -1;
  for (let j = 0; j < count; j++) {
    const wanted = `x ${clnt} ${j} y`;
    const off = v.indexOf(wanted);
    if (off < 0)
      throw new LabError(`${clnt} missing element ${wanted} in Append result ${preview(v)}`);
    const off1 = v.lastIndexOf(wanted);
    if (off1 !== off) throw new LabError(`duplicate element ${wanted} in Append result`);
    if (off <= lastoff) throw new LabError(`wrong order for element ${wanted} in Append result`);
    lastoff = off;
  }
}

/** For every client i, its `counts[i]` appends each occur exactly once in `v`, in order. */
export function checkConcurrentAppends(v: string, counts: readonly number[]): void {
  counts.forEach((count, i) => {
    checkClntAppends(i, v, count);
  });
}

/**
 * The lab's GenericTest: `nclients` clients, each iteration on fresh clerks, run Appends and
 * Gets (and, with random keys, Puts) for 1 s; then each client's key is checked; finally the
 * whole recorded history must be linearizable.
 */
export async function genericTest(
  sim: Sim,
  nclients: number,
  unreliable: boolean,
  randomkeys: boolean,
): Promise<void> {
  const NITER = 3;
  const TIME = 1;

  let title = 'Test: ';
  // the network drops RPC requests and replies.
  if (unreliable) title += 'unreliable net, ';
  if (randomkeys) title += 'random keys, ';
  title += nclients > 1 ? 'many clients' : 'one client';

  const cfg = new KvConfig(sim, unreliable);
  cfg.begin(title);
  const opLog = cfg.recorder();

  const ck = cfg.recorded(opLog, 0, cfg.makeClient());

  let doneClients = false;
  for (let i = 0; i < NITER; i++) {
    doneClients = false;
    const clnts = spawnClients(cfg, nclients, async (cli, clerk) => {
      const myck = cfg.recorded(opLog, cli, clerk);
      let j = 0;
      let last = ''; // only used when not randomkeys
      if (!randomkeys) await cfg.put(myck, String(cli), last);
      while (!doneClients) {
        const turnStart = sim.clock.now();
        const key = randomkeys ? String(cfg.random.int(nclients)) : String(cli);
        const nv = `x ${cli} ${j} y`;
        if (cfg.random.int(1000) < 500) {
          const l = await cfg.append(myck, key, nv);
          if (!randomkeys) {
            if (j > 0) {
              const o = `x ${cli} ${j - 1} y`;
              if (!l.includes(o)) cfg.fatal(`error: old ${o} not in return\n${preview(l)}`);
            }
            if (l.includes(nv))
              cfg.fatal(`error: new value ${nv} in returned values\n${preview(l)}`);
            last += nv;
          }
          j++;
        } else if (randomkeys && cfg.random.int(1000) < 100) {
          // only with random keys: it would break the check after Get otherwise
          await cfg.put(myck, key, nv);
          j++;
        } else {
          const v = await cfg.get(myck, key);
          // the check only makes sense when not using random keys
          if (!randomkeys && v !== last) {
            cfg.fatal(
              `get wrong value, key ${key}, wanted:\n${preview(last)}\n, got\n${preview(v)}`,
            );
          }
        }
        await cfg.pace(turnStart);
      }
      return j;
    });

    await cfg.sleep(TIME * 1000);

    doneClients = true; // tell clients to quit

    for (let cli = 0; cli < nclients; cli++) {
      const outcome = await (clnts[cli] as Promise<Outcome<number>>);
      if (!outcome.ok) throw outcome.error;
      const j = outcome.value;
      const key = String(cli);
      const v = await cfg.get(ck, key);
      if (!randomkeys) checkClntAppends(cli, v, j);
    }
  }

  const checked = assertLinearizable(kvModel, opLog.operations(), {
    onUnknown: (message) => console.log(`info: ${message}`),
  });
  if (checked.outcome === 'ok') {
    console.log(
      `  linearizable: ${checked.history.length} operations checked in ${checked.elapsedMs.toFixed(0)} ms`,
    );
  }

  cfg.end();
}

/** 5 clients append 10 elements each to one key on an unreliable network; all arrive once, in order. */
export async function unreliableOneKey(sim: Sim): Promise<void> {
  const nclient = 5;
  const upto = 10;
  const cfg = new KvConfig(sim, true);
  const ck = cfg.makeClient();

  cfg.begin('Test: concurrent append to same key, unreliable');

  await cfg.put(ck, 'k', '');

  await spawnClientsAndWait(cfg, nclient, async (me, myck) => {
    for (let n = 0; n < upto; n++) {
      const nv = `x ${me} ${n} y`;
      const ov = await cfg.append(myck, 'k', nv);
      if (ov.includes(nv)) cfg.fatal(`error: nv ${nv} in returned values\n${preview(ov)}`);
    }
  });

  const counts = Array.from({ length: nclient }, () => upto);

  const vx = await cfg.get(ck, 'k');
  checkConcurrentAppends(vx, counts);

  cfg.end();
}
