import net from 'node:net';
import type { SeededRandom } from '@flotilla/transport';

/**
 * A TCP proxy for chaos tests: forwards bytes between clients and a server, and on demand
 * kills connections, either at once or in the middle of the next chunk it forwards (so a
 * request or reply is cut mid-frame: the far side gets a prefix of it, then the connection
 * ends). A killed connection ends both of its sockets, with a FIN or, at random, a RST.
 */

export interface ProxyStats {
  /** Client connections accepted. */
  accepted: number;
  /** Connections the proxy killed (each counted once). */
  killed: number;
  /** Of those, killed mid-chunk: only part of a chunk in flight was forwarded. */
  cutMidChunk: number;
  /**
   * Of those, killed while the client was waiting: bytes went up since the last came down (a
   * request, or part of one, reached the server or was cut, and its reply had not come back).
   */
  killedAwaitingReply: number;
  bytesUp: number;
  bytesDown: number;
}

export interface ChaosOptions {
  /** Pause between two rounds of killing, drawn uniformly from [minMs, maxMs]. */
  readonly minMs: number;
  readonly maxMs: number;
}

interface Pair {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** Set when the pair should die inside the next chunk it forwards. */
  cutNext: boolean;
  /** Bytes went up since the last bytes came down. */
  awaiting: boolean;
  dead: boolean;
  fallback: ReturnType<typeof setTimeout> | undefined;
}

export class ChaosProxy {
  readonly stats: ProxyStats = {
    accepted: 0,
    killed: 0,
    cutMidChunk: 0,
    killedAwaitingReply: 0,
    bytesUp: 0,
    bytesDown: 0,
  };
  readonly #server: net.Server;
  readonly #pairs = new Set<Pair>();
  readonly #random: SeededRandom;
  readonly #target: { host: string; port: number };
  #chaos: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  private constructor(
    server: net.Server,
    target: { host: string; port: number },
    random: SeededRandom,
  ) {
    this.#server = server;
    this.#target = target;
    this.#random = random;
    server.on('connection', (client) => this.#accept(client));
  }

  /** Listens on 127.0.0.1 (an ephemeral port) and forwards to `targetUrl`'s host and port. */
  static async start(targetUrl: string, random: SeededRandom): Promise<ChaosProxy> {
    const url = new URL(targetUrl);
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new ChaosProxy(server, { host: url.hostname, port: Number(url.port) }, random);
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  /** Kills every connection now. */
  killAll(): void {
    for (const pair of this.#pairs) this.#kill(pair, false);
  }

  /** Kills each connection with probability `p`, now or (with probability `pCut`) mid-chunk. */
  killSome(p: number, pCut: number): void {
    for (const pair of [...this.#pairs]) {
      if (!this.#random.chance(p)) continue;
      if (this.#random.chance(pCut)) this.#cutNext(pair);
      else this.#kill(pair, false);
    }
  }

  /** Kills connections at random times until `stopChaos()`. */
  startChaos(options: ChaosOptions): void {
    this.stopChaos();
    const round = (): void => {
      const roll = this.#random.next();
      if (roll < 0.25) this.killAll();
      else if (roll < 0.6) this.killSome(0.5, 0);
      else this.killSome(1, 1);
      schedule();
    };
    const schedule = (): void => {
      const delay = options.minMs + this.#random.next() * (options.maxMs - options.minMs);
      this.#chaos = setTimeout(round, delay);
    };
    schedule();
  }

  stopChaos(): void {
    if (this.#chaos !== undefined) clearTimeout(this.#chaos);
    this.#chaos = undefined;
  }

  /** Stops the chaos, kills every connection and stops listening. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.stopChaos();
    this.killAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    this.stats.accepted++;
    client.setNoDelay(true);
    const upstream = net.connect({ host: this.#target.host, port: this.#target.port });
    upstream.setNoDelay(true);
    const pair: Pair = {
      client,
      upstream,
      cutNext: false,
      awaiting: false,
      dead: false,
      fallback: undefined,
    };
    this.#pairs.add(pair);
    if (this.#closed) {
      this.#kill(pair, false);
      return;
    }
    const forward = (from: net.Socket, to: net.Socket, up: boolean): void => {
      from.on('data', (chunk: Buffer) => {
        if (pair.dead) return;
        let bytes = chunk;
        if (pair.cutNext) {
          // Forward a strict prefix (possibly empty), then die.
          bytes = chunk.subarray(0, this.#random.int(chunk.length));
        }
        if (up) this.stats.bytesUp += bytes.length;
        else this.stats.bytesDown += bytes.length;
        if (bytes.length > 0) pair.awaiting = up;
        // A chunk cut short, either way, leaves the client waiting for (the rest of) a reply.
        if (pair.cutNext) pair.awaiting = true;
        if (bytes.length > 0) to.write(bytes);
        if (pair.cutNext) this.#kill(pair, true);
      });
      from.on('end', () => {
        if (!pair.dead) to.end();
      });
      from.on('error', () => this.#end(pair));
      from.on('close', () => this.#end(pair));
    };
    forward(client, upstream, true);
    forward(upstream, client, false);
  }

  /** Arms a mid-chunk cut, with a fallback kill if nothing flows for a while. */
  #cutNext(pair: Pair): void {
    if (pair.dead || pair.cutNext) return;
    pair.cutNext = true;
    pair.fallback = setTimeout(() => this.#kill(pair, false), 20);
  }

  #kill(pair: Pair, midChunk: boolean): void {
    if (pair.dead) return;
    this.stats.killed++;
    if (midChunk) this.stats.cutMidChunk++;
    if (pair.awaiting) this.stats.killedAwaitingReply++;
    const reset = this.#random.chance(0.5);
    this.#end(pair, reset);
  }

  #end(pair: Pair, reset = false): void {
    if (!pair.dead) {
      pair.dead = true;
      if (pair.fallback !== undefined) clearTimeout(pair.fallback);
      this.#pairs.delete(pair);
    }
    for (const socket of [pair.client, pair.upstream]) {
      if (socket.destroyed) continue;
      // resetAndDestroy needs a connected socket; a socket still connecting is just destroyed.
      if (reset && !socket.connecting) socket.resetAndDestroy();
      else socket.destroy();
    }
  }
}
