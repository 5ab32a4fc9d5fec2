import {
  type ClerkFactory,
  type LabServer,
  type ServiceCluster,
  type StartServer,
  withServiceConfig,
} from '@flotilla/labkit';
import { type Sim, type SimulationReport, silentLogger, simulateTest } from '@flotilla/transport';
import { Clerk, type KvServer, startKvServer } from '../../src/index.js';

/** kvraft's server as labkit's harness drives it. */
export interface KvLabServer extends LabServer {
  readonly kv: KvServer;
}

/** The lab's `StartKVServer(ends, me, persister, maxraftstate)` on labkit's contract. */
export const startKvLabServer: StartServer<KvLabServer> = async (
  ends,
  me,
  persister,
  maxraftstate,
  env,
) => {
  const kv = await startKvServer({
    peers: ends,
    me,
    persister,
    maxraftstate,
    clock: env.clock,
    random: env.random,
    logger: silentLogger,
  });
  return {
    kv,
    services: kv.services,
    raft: kv.raft,
    kill: () => kv.kill(),
    close: () => kv.close(),
  };
};

/** The lab's `MakeClerk(random_handles(ends))`. */
export const makeKvClerk: ClerkFactory<Clerk> = (ends, env) =>
  new Clerk(ends, { clock: env.clock, random: env.random });

export type KvConfig = ServiceCluster<KvLabServer, Clerk>;

/** How one run of a lab test is seeded and what it prints (the stress runner: any seed, quiet). */
export interface LabRunOptions {
  /** Default: `simulateTest`'s, from the test's name (or FLOTILLA_SEED). */
  readonly seed?: number;
  /** Print neither the lab's lines (title, Passed, info) nor the timing line. */
  readonly quiet?: boolean;
}

const silent = (): void => {};

/** Each lab test's wall and virtual time, printed once it passes (the suite's budget). */
function timing(name: string, wallMs: number, virtualMs: number, rpcs: number): void {
  console.log(
    `${name}: wall ${(wallMs / 1000).toFixed(1)} s, virtual ${(virtualMs / 1000).toFixed(1)} s, ${rpcs} RPCs`,
  );
}

/**
 * One lab test: kvraft's `make_config(n, unreliable, maxraftstate)` and `defer cleanup()` in
 * virtual time, failing past 120 s of it (`simulateTest`), seeded by `run.seed`.
 */
export async function runKvTest(
  name: string,
  run: LabRunOptions,
  config: { readonly n: number; readonly unreliable: boolean; readonly maxraftstate: number },
  body: (cfg: KvConfig, sim: Sim) => Promise<void>,
): Promise<SimulationReport<void>> {
  const started = performance.now();
  const log = run.quiet === true ? { log: silent } : {};
  const report = await simulateTest(
    name,
    (sim) =>
      withServiceConfig(
        sim,
        { ...config, ...log, startServer: startKvLabServer, makeClerk: makeKvClerk },
        (cfg) => body(cfg, sim),
      ),
    { seed: run.seed },
  );
  if (run.quiet !== true) timing(name, performance.now() - started, report.virtualMs, report.rpcs);
  return report;
}
