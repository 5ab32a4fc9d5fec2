import { type Clock, type Random, realClock } from '@flotilla/transport';
import { WebSocketServer } from 'ws';
import { ChaosError, configError } from './errors.js';
import { emptyPipeStats, type PipeStats } from './fault-pipe.js';
import { type ProxyFaults, type ResolvedProxyFaults, resolveProxyFaults } from './faults.js';
import { isLoopbackHost, loopbackWsUrl } from './loopback.js';
import { Relay } from './relay.js';

/** Above the transport's default frame limit (16 MiB), so the proxy never is the limit. */
export const DEFAULT_PROXY_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
/** Per direction and connection; see Relay's comment on backpressure. */
export const DEFAULT_PROXY_MAX_QUEUED_MESSAGES = 1024;

export interface FaultProxyOptions {
  /** Where each accepted connection is relayed: `ws://<loopback>:<port>`. */
  readonly target: string;
  /** Draws every fault; a `SeededRandom` makes the choices replayable. */
  readonly random: Random;
  /** Timers for delays and reorder holds (default the real clock). */
  readonly clock?: Clock;
  /** Default 0: a free port, read it from `url`. */
  readonly port?: number;
  /** A loopback address (default 127.0.0.1). */
  readonly host?: string;
  /** The largest message relayed, each way (default 64 MiB); a larger one closes with 1009. */
  readonly maxPayloadBytes?: number;
  /** Messages in flight per direction and connection before reading pauses (default 1024). */
  readonly maxQueuedMessages?: number;
  /** The faults to start with (default none). */
  readonly faults?: ProxyFaults;
}

/** A copy of a proxy's counters; `forward` and `backward` add up over every connection. */
export interface ProxyStats {
  /** Connections open now. */
  readonly connections: number;
  /** Connections accepted since the start (refused ones not included). */
  readonly accepted: number;
  /** Connections refused at the handshake because `refuse` was on (or the proxy was closing). */
  readonly refused: number;
  /** Connections ended by `cut()` (or by a change of blackhole). */
  readonly cut: number;
  readonly forward: Readonly<PipeStats>;
  readonly backward: Readonly<PipeStats>;
}

/**
 * A WebSocket proxy on loopback that relays each accepted connection to `target` message by
 * message, through the faults set with `setFaults`: drop, duplicate, reorder and delay work on
 * whole frames, and a binary frame stays binary.
 *
 * A change of blackhole (on or off, either direction) cuts the current connections: a
 * partition begins with nothing in flight leaking across it, and a healed link starts from
 * fresh connections rather than ones whose handshake the blackhole swallowed.
 */
export class FaultProxy {
  readonly url: string;
  readonly target: string;
  readonly #wss: WebSocketServer;
  readonly #clock: Clock;
  readonly #relays = new Set<Relay>();
  readonly #stats = { forward: emptyPipeStats(), backward: emptyPipeStats() };
  #faults: ProxyFaults;
  #resolved: ResolvedProxyFaults;
  #accepted = 0;
  #refused = 0;
  #cut = 0;
  #closed: Promise<void> | undefined;

  private constructor(wss: WebSocketServer, url: string, options: FaultProxyOptions) {
    this.#wss = wss;
    this.url = url;
    this.target = options.target;
    this.#clock = options.clock ?? realClock;
    this.#faults = options.faults ?? {};
    this.#resolved = resolveProxyFaults(this.#faults);
    wss.on('connection', (client) => {
      // Accepted by the handshake just before a refuse or a close: end it at once.
      if (this.#refusing()) {
        this.#refused++;
        client.terminate();
        return;
      }
      this.#accepted++;
      const relay = new Relay({
        client,
        target: this.target,
        faults: this.#resolved,
        random: options.random,
        clock: this.#clock,
        maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_PROXY_MAX_PAYLOAD_BYTES,
        maxQueuedMessages: options.maxQueuedMessages ?? DEFAULT_PROXY_MAX_QUEUED_MESSAGES,
        stats: this.#stats,
        onClosed: (closed) => this.#relays.delete(closed),
      });
      this.#relays.add(relay);
    });
  }

  /** Listens on `host:port` and resolves once it accepts; throws ERR_CHAOS_CONFIG on bad options. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    checkOptions(options);
    const host = options.host ?? '127.0.0.1';
    let self: FaultProxy | undefined;
    const wss = new WebSocketServer({
      host,
      port: options.port ?? 0,
      maxPayload: options.maxPayloadBytes ?? DEFAULT_PROXY_MAX_PAYLOAD_BYTES,
      perMessageDeflate: false,
      // `refuse` fails the handshake (HTTP 503): the dialer never sees an open connection.
      verifyClient: (_info, callback) => {
        // No proxy yet: nothing can connect before start() returns the url.
        if (self === undefined) return callback(true);
        if (!self.#refusing()) return callback(true);
        self.#refused++;
        callback(false, 503, 'refused by the chaos proxy');
      },
    });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', (err) => {
        wss.close();
        reject(configError('port', `cannot be listened on: ${err.message}`));
      });
    });
    const address = wss.address();
    if (address === null || typeof address === 'string') {
      wss.close();
      throw configError('host', 'must be an IP address');
    }
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    self = new FaultProxy(wss, `ws://${shown}:${address.port}`, options);
    return self;
  }

  /** The faults last set (as given, not resolved). */
  get faults(): ProxyFaults {
    return this.#faults;
  }

  /** Replaces every fault; the new ones apply to the messages relayed from now on. */
  setFaults(faults: ProxyFaults): void {
    this.#checkOpen();
    const resolved = resolveProxyFaults(faults);
    const before = this.#resolved;
    this.#faults = faults;
    this.#resolved = resolved;
    if (
      before.forward.blackhole !== resolved.forward.blackhole ||
      before.backward.blackhole !== resolved.backward.blackhole
    ) {
      this.cut();
      return;
    }
    for (const relay of this.#relays) relay.setFaults(resolved);
  }

  /** Ends every current connection, both sides, at once; returns how many. New ones are accepted. */
  cut(): number {
    this.#checkOpen();
    return this.#cutAll();
  }

  /** Readable after `close()` too, for a test's report. */
  stats(): ProxyStats {
    return {
      connections: this.#relays.size,
      accepted: this.#accepted,
      refused: this.#refused,
      cut: this.#cut,
      forward: { ...this.#stats.forward },
      backward: { ...this.#stats.backward },
    };
  }

  /** Cuts every connection and stops listening. Idempotent; later calls get the same promise. */
  close(): Promise<void> {
    if (this.#closed === undefined) {
      this.#cutAll();
      this.#closed = new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    }
    return this.#closed;
  }

  #cutAll(): number {
    const relays = [...this.#relays];
    for (const relay of relays) relay.cut();
    this.#cut += relays.length;
    return relays.length;
  }

  #refusing(): boolean {
    return this.#resolved.refuse || this.#closed !== undefined;
  }

  #checkOpen(): void {
    if (this.#closed !== undefined) {
      throw new ChaosError('ERR_PROXY_CLOSED', `the proxy ${this.url} → ${this.target} is closed`);
    }
  }
}

function checkOptions(options: FaultProxyOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw configError('options', 'must be an object');
  }
  loopbackWsUrl(options.target, 'target');
  const random = options.random as Partial<Random> | undefined;
  if (typeof random?.next !== 'function') throw configError('random', 'must be a Random');
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || !isLoopbackHost(host)) {
    throw configError('host', `must be a loopback address, got ${JSON.stringify(host)}`);
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw configError('port', `must be an integer in [0, 65535], got ${String(port)}`);
  }
  positiveInteger(options.maxPayloadBytes, 'maxPayloadBytes');
  positiveInteger(options.maxQueuedMessages, 'maxQueuedMessages');
  resolveProxyFaults(options.faults ?? {});
}

function positiveInteger(value: number | undefined, option: string): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw configError(option, `must be a positive integer, got ${String(value)}`);
  }
}
