import type { Clock, Random } from '@flotilla/transport';
import { ChaosError, configError } from './errors.js';
import { FaultProxy, type ProxyStats } from './fault-proxy.js';
import { type ProxyFaults, resolveProxyFaults } from './faults.js';
import { loopbackWsUrl } from './loopback.js';
import {
  type Blocked,
  bridgeBlocks,
  checkNode,
  effectiveLinkFaults,
  openBlocks,
  partitionBlocks,
} from './topology.js';

export interface LinkMapOptions {
  /** The real `ws://` URL of each server, by index (where each one listens). */
  readonly targets: readonly string[];
  /** Each proxy draws from its own fork, in a fixed order (links i→j by i then j, then clients). */
  readonly random: Random;
  readonly clock?: Clock;
  /** Loopback address of every proxy (default 127.0.0.1). */
  readonly host?: string;
  readonly maxPayloadBytes?: number;
  readonly maxQueuedMessages?: number;
}

export interface LinkStats {
  readonly from: number;
  readonly to: number;
  readonly stats: ProxyStats;
}

export interface LinkMapStats {
  /** Every link i→j (i ≠ j), by i then j. */
  readonly links: readonly LinkStats[];
  /** The client proxy of each server, by index. */
  readonly clients: readonly ProxyStats[];
}

/**
 * The network between N servers, made of proxies: one per ordered pair i→j (the connections
 * server i dials to server j) and one per server for clients. Start server i with
 * `peerUrlsFor(i)` as its peer list and point clients at `clientUrls()`; then partition,
 * isolate, cut one way, bridge or degrade single links. Clients are never partitioned.
 *
 * `partition`, `isolate`, `bridge` and `heal` each replace the current partition; `oneWay`
 * adds one blocked direction to it. `setLinkFaults` sets a link's own faults, which the
 * partition's blackholes are laid over; `heal` clears both.
 */
export class LinkMap {
  readonly n: number;
  readonly targets: readonly string[];
  readonly #links: FaultProxy[][];
  readonly #clients: FaultProxy[];
  readonly #base: ProxyFaults[][];
  #blocked: boolean[][];
  #closed: Promise<void> | undefined;

  private constructor(targets: readonly string[], links: FaultProxy[][], clients: FaultProxy[]) {
    this.n = targets.length;
    this.targets = targets;
    this.#links = links;
    this.#clients = clients;
    this.#base = targets.map(() => targets.map(() => ({})));
    this.#blocked = openBlocks(this.n);
  }

  /** Starts every proxy on a free loopback port; on a failure closes the ones started. */
  static async start(options: LinkMapOptions): Promise<LinkMap> {
    const { targets } = options;
    if (!Array.isArray(targets) || targets.length < 1) {
      throw configError('targets', 'must list at least one ws:// URL');
    }
    for (const [i, url] of targets.entries()) loopbackWsUrl(url, `targets[${i}]`);
    const started: FaultProxy[] = [];
    const start = async (target: string): Promise<FaultProxy> => {
      const proxy = await FaultProxy.start({
        target,
        random: options.random.fork(),
        ...(options.clock && { clock: options.clock }),
        ...(options.host !== undefined && { host: options.host }),
        ...(options.maxPayloadBytes !== undefined && { maxPayloadBytes: options.maxPayloadBytes }),
        ...(options.maxQueuedMessages !== undefined && {
          maxQueuedMessages: options.maxQueuedMessages,
        }),
      });
      started.push(proxy);
      return proxy;
    };
    try {
      // links[i][i] stays a hole: a server does not dial itself through a proxy.
      const links: FaultProxy[][] = [];
      for (let i = 0; i < targets.length; i++) {
        const row: FaultProxy[] = [];
        for (let j = 0; j < targets.length; j++) {
          if (j !== i) row[j] = await start(targets[j] as string);
        }
        links.push(row);
      }
      const clients: FaultProxy[] = [];
      for (const target of targets) clients.push(await start(target));
      return new LinkMap(targets, links, clients);
    } catch (err) {
      await Promise.all(started.map((proxy) => proxy.close()));
      throw err;
    }
  }

  /**
   * The peer list to start server i with: its own real URL at index i (where it listens), the
   * proxy i→j at every other index j.
   */
  peerUrlsFor(i: number): string[] {
    checkNode(this.n, i, 'i');
    return this.targets.map((url, j) => (j === i ? url : this.link(i, j).url));
  }

  /** The client-facing proxy of each server, by index. */
  clientUrls(): string[] {
    return this.#clients.map((proxy) => proxy.url);
  }

  /** The proxy of link i→j, for what the map does not cover (its stats, a cut). */
  link(from: number, to: number): FaultProxy {
    checkNode(this.n, from, 'from');
    checkNode(this.n, to, 'to');
    if (from === to) throw configError('to', `must differ from from (${from})`);
    return this.#links[from]?.[to] as FaultProxy;
  }

  /** The client proxy of server i. */
  clientProxy(i: number): FaultProxy {
    checkNode(this.n, i, 'i');
    return this.#clients[i] as FaultProxy;
  }

  /** True when the messages `from` sends to `to` are blackholed by the partition. */
  isBlocked(from: number, to: number): boolean {
    checkNode(this.n, from, 'from');
    checkNode(this.n, to, 'to');
    return this.#blocked[from]?.[to] ?? false;
  }

  /** The faults proxy from→to runs now: its own plus the partition's blackholes. */
  linkFaults(from: number, to: number): ProxyFaults {
    this.link(from, to);
    return effectiveLinkFaults(this.#base[from]?.[to] ?? {}, this.#blocked, from, to);
  }

  /** Nodes talk only within their group; a node in no group is cut off. Replaces the partition. */
  partition(groups: readonly (readonly number[])[]): void {
    this.#checkOpen();
    this.#apply(partitionBlocks(this.n, groups));
  }

  /** Cuts node i off from every other server (its clients still reach it). */
  isolate(i: number): void {
    this.#checkOpen();
    checkNode(this.n, i, 'i');
    const others = this.targets.map((_, j) => j).filter((j) => j !== i);
    this.#apply(partitionBlocks(this.n, [[i], others]));
  }

  /** Adds to the partition: what `from` sends to `to` is lost; `to` → `from` still arrives. */
  oneWay(from: number, to: number): void {
    this.#checkOpen();
    this.link(from, to);
    const blocked = this.#blocked.map((row) => row.slice());
    (blocked[from] as boolean[])[to] = true;
    this.#apply(blocked);
  }

  /** Sides `a` and `b` hear each other only through `bridgeNode`. Replaces the partition. */
  bridge(a: readonly number[], b: readonly number[], bridgeNode: number): void {
    this.#checkOpen();
    this.#apply(bridgeBlocks(this.n, a, b, bridgeNode));
  }

  /** Sets link from→to's own faults (`forward`: from's messages, `backward`: to's replies). */
  setLinkFaults(from: number, to: number, faults: ProxyFaults): void {
    this.#checkOpen();
    this.link(from, to);
    resolveProxyFaults(faults);
    (this.#base[from] as ProxyFaults[])[to] = faults;
    this.#push(from, to);
  }

  /** Every link back to no faults and no partition. */
  heal(): void {
    this.#checkOpen();
    for (const row of this.#base) row.fill({});
    this.#apply(openBlocks(this.n));
  }

  stats(): LinkMapStats {
    const links: LinkStats[] = [];
    for (let from = 0; from < this.n; from++) {
      for (let to = 0; to < this.n; to++) {
        if (from !== to) links.push({ from, to, stats: this.link(from, to).stats() });
      }
    }
    return { links, clients: this.#clients.map((proxy) => proxy.stats()) };
  }

  /** Closes every proxy. Idempotent; afterwards the fault methods throw ERR_PROXY_CLOSED. */
  close(): Promise<void> {
    this.#closed ??= Promise.all(
      [...this.#links.flat(), ...this.#clients].map((proxy) => proxy.close()),
    ).then(() => undefined);
    return this.#closed;
  }

  #apply(blocked: Blocked): void {
    this.#blocked = blocked.map((row) => row.slice());
    for (let from = 0; from < this.n; from++) {
      for (let to = 0; to < this.n; to++) if (from !== to) this.#push(from, to);
    }
  }

  // A proxy whose blackholes change cuts its connections (see FaultProxy).
  #push(from: number, to: number): void {
    this.link(from, to).setFaults(this.linkFaults(from, to));
  }

  #checkOpen(): void {
    if (this.#closed !== undefined) {
      throw new ChaosError('ERR_PROXY_CLOSED', 'the link map is closed');
    }
  }
}
