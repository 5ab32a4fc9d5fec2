import type { Sim } from '@flotilla/transport';
import type { ClusterOptions, ServiceCluster } from './cluster.js';
import type { LabServer } from './contract.js';
import { World, type WorldOptions } from './world.js';

export interface ServiceConfigOptions<S extends LabServer, C extends object>
  extends ClusterOptions<S, C>,
    WorldOptions {
  /** The network drops and delays (labrpc's `Reliable(false)`); default reliable. */
  readonly unreliable?: boolean;
}

/**
 * kvraft's `make_config(n, unreliable, maxraftstate)` in a world of its own: start all n
 * servers, connect all, then set reliability. The world is `cluster.world`.
 */
export async function makeServiceConfig<S extends LabServer, C extends object = object>(
  sim: Sim,
  options: ServiceConfigOptions<S, C>,
): Promise<ServiceCluster<S, C>> {
  const world = new World(sim, options);
  const cluster = world.addCluster(options);
  try {
    await cluster.startAll();
  } catch (err) {
    await world.cleanup();
    throw err;
  }
  cluster.connectAll();
  world.setUnreliable(options.unreliable ?? false);
  return cluster;
}

/** `makeServiceConfig`, run `body`, then clean up (the lab's `defer cfg.cleanup()`), pass or fail. */
export async function withServiceConfig<S extends LabServer, C extends object, T>(
  sim: Sim,
  options: ServiceConfigOptions<S, C>,
  body: (cfg: ServiceCluster<S, C>) => Promise<T>,
): Promise<T> {
  const cfg = await makeServiceConfig(sim, options);
  try {
    return await body(cfg);
  } finally {
    await cfg.world.cleanup();
  }
}

/** A world for several clusters (shardkv): run `body`, then clean up, pass or fail. */
export async function withWorld<T>(
  sim: Sim,
  options: WorldOptions,
  body: (world: World) => Promise<T>,
): Promise<T> {
  const world = new World(sim, options);
  try {
    return await body(world);
  } finally {
    await world.cleanup();
  }
}
