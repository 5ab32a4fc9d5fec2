import {
  type ClerkFactory,
  type LabServer,
  type ServiceCluster,
  type StartServer,
  withServiceConfig,
} from '@flotilla/labkit';
import { type Sim, type SimulationReport, silentLogger, simulateTest } from '@flotilla/transport';
import { Clerk, type ShardCtrler, startShardCtrler } from '../../src/index.js';

/** shardctrler's server as labkit's harness drives it. */
export interface CtrlerLabServer extends LabServer {
  readonly ctrler: ShardCtrler;
}

/** The lab's `StartServer(servers, me, persister)` on labkit's contract. */
export const startCtrlerLabServer: StartServer<CtrlerLabServer> = async (
  ends,
  me,
  persister,
  maxraftstate,
  env,
) => {
  const ctrler = await startShardCtrler({
    peers: ends,
    me,
    persister,
    maxraftstate,
    clock: env.clock,
    random: env.random,
    logger: silentLogger,
  });
  return {
    ctrler,
    services: ctrler.services,
    raft: ctrler.raft,
    kill: () => ctrler.kill(),
    close: () => ctrler.close(),
  };
};

/** The lab's `MakeClerk(random_handles(ends))`. */
export const makeCtrlerClerk: ClerkFactory<Clerk> = (ends, env) =>
  new Clerk(ends, { clock: env.clock, random: env.random });

export type CtrlerConfig = ServiceCluster<CtrlerLabServer, Clerk>;

export interface LabRunOptions {
  /** Default: `simulateTest`'s, from the test's name (or FLOTILLA_SEED). */
  readonly seed?: number;
  /** Print neither the lab's lines nor the timing line. */
  readonly quiet?: boolean;
}

const silent = (): void => {};

/**
 * One lab test: shardctrler's `make_config(t, n, false)` (its config.go is kvraft's; the
 * controller never snapshots, maxraftstate -1) and `defer cleanup()` in virtual time, failing
 * past 120 s of it (`simulateTest`).
 */
export async function runCtrlerTest(
  name: string,
  run: LabRunOptions,
  nservers: number,
  body: (cfg: CtrlerConfig, sim: Sim) => Promise<void>,
): Promise<SimulationReport<void>> {
  const started = performance.now();
  const log = run.quiet === true ? { log: silent } : {};
  const report = await simulateTest(
    name,
    (sim) =>
      withServiceConfig(
        sim,
        {
          n: nservers,
          unreliable: false,
          maxraftstate: -1,
          ...log,
          startServer: startCtrlerLabServer,
          makeClerk: makeCtrlerClerk,
        },
        (cfg) => body(cfg, sim),
      ),
    { seed: run.seed },
  );
  if (run.quiet !== true) {
    const wall = ((performance.now() - started) / 1000).toFixed(1);
    const virtual = (report.virtualMs / 1000).toFixed(1);
    console.log(`${name}: wall ${wall} s, virtual ${virtual} s, ${report.rpcs} RPCs`);
  }
  return report;
}
