/**
 * The README's replicated counter, as written there, on three servers in virtual time: an
 * embedder's propose-and-wait, NotLeader redirects, a retry after an unknown outcome, and a
 * linearizable read.
 */
import { MemoryPersister } from '@flotilla/raft';
import {
  type Clock,
  RpcServer,
  type Sim,
  silentLogger,
  simulateTest,
  sleep,
} from '@flotilla/transport';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  LeadershipLostError,
  NotLeaderError,
  type OpOf,
  ReplicatedStateMachine,
  type ResultOf,
  type StateMachine,
  SubmitTimeoutError,
} from '../src/index.js';

// ---- as in the README -------------------------------------------------------------------
type CounterOp = { readonly add: number };

class Counter implements StateMachine<CounterOp, number, number> {
  value = 0;
  apply(op: CounterOp): number {
    this.value += op.add;
    return this.value;
  }
  snapshot(): number {
    return this.value;
  }
  restore(snapshot: number): void {
    this.value = snapshot;
  }
}

/** Adds `n` exactly once, whichever server leads and however often it must retry. */
async function add(
  servers: readonly ReplicatedStateMachine<Counter>[],
  n: number,
  session: { clientId: string; seq: number },
  clock: Clock,
): Promise<number> {
  let target = 0;
  for (;;) {
    try {
      return await (servers[target] as ReplicatedStateMachine<Counter>).submit({ add: n }, session);
    } catch (err) {
      if (err instanceof NotLeaderError) {
        // Never proposed: go where the hint points, or try the next server after a pause.
        if (err.leaderHint !== null) target = err.leaderHint;
        else {
          target = (target + 1) % servers.length;
          await sleep(clock, 50);
        }
      } else if (!(err instanceof LeadershipLostError || err instanceof SubmitTimeoutError)) {
        throw err; // outcome unknown for those two: retry with the same session
      }
    }
  }
}
// -----------------------------------------------------------------------------------------

async function startCounters(sim: Sim, n: number): Promise<ReplicatedStateMachine<Counter>[]> {
  const servers: ReplicatedStateMachine<Counter>[] = [];
  for (let me = 0; me < n; me++) {
    const peers = Array.from({ length: n }, (_, j) => {
      const end = sim.net.makeEnd(`${me}->${j}`);
      sim.net.connect(end.name, String(j));
      sim.net.enable(end.name, true);
      return end;
    });
    const rsm = await ReplicatedStateMachine.create({
      me,
      peers,
      persister: new MemoryPersister(),
      clock: sim.clock,
      random: sim.random.fork(),
      machine: new Counter(),
      maxraftstate: 4096,
    });
    sim.net.addServer(
      String(me),
      new RpcServer({ logger: silentLogger }).addService('Raft', rsm.service),
    );
    servers.push(rsm);
  }
  return servers;
}

describe('the README counter', () => {
  it('types submit from the machine: its op in, its result out', () => {
    expectTypeOf<OpOf<Counter>>().toEqualTypeOf<CounterOp>();
    expectTypeOf<ResultOf<Counter>>().toEqualTypeOf<number>();
    expectTypeOf<
      ReplicatedStateMachine<Counter>['submit']
    >().returns.resolves.toEqualTypeOf<number>();
  });

  it('adds exactly once per session and reads linearizably', async () => {
    await simulateTest('readme-counter', async (sim) => {
      const servers = await startCounters(sim, 3);
      try {
        expect(await add(servers, 5, { clientId: 'web-1', seq: 1 }, sim.clock)).toBe(5);
        expect(await add(servers, 5, { clientId: 'web-1', seq: 1 }, sim.clock)).toBe(5); // a retry
        expect(await add(servers, 2, { clientId: 'web-1', seq: 2 }, sim.clock)).toBe(7);
        const leader = servers.find(
          (s) => s.getState().isLeader,
        ) as ReplicatedStateMachine<Counter>;
        expect(await leader.read((counter) => counter.value)).toBe(7);
      } finally {
        await Promise.all(servers.map((s) => s.close()));
      }
    });
  });
});
