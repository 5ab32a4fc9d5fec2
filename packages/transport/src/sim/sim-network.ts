import type { Clock, TimerHandle } from '../clock.js';
import { decode, encode } from '../codec.js';
import { SimNetworkError } from '../errors.js';
import type { Random } from '../random.js';
import type { CallOptions, CallResult, ClientEnd } from '../rpc.js';
import type { DispatchResult, RpcServer } from '../rpc-server.js';

export interface SimNetworkOptions {
  readonly clock: Clock;
  readonly random: Random;
}

interface EndState {
  enabled: boolean;
  serverName: string | undefined;
  readonly end: SimClientEnd;
}

/** How often a call waiting on an asynchronous handler checks whether its end or server died. */
const DEAD_CHECK_MS = 100;

/**
 * The lab's labrpc network in virtual time (see shared/spec/labrpc.md for every number).
 *
 * Every argument and reply is encoded and decoded with the wire codec, so caller and server
 * never share an object and anything unserializable fails at the call. All delays and drops
 * draw from the injected `Random` and wait on the injected `Clock`, so a seed replays a run.
 */
export class SimNetwork {
  readonly clock: Clock;
  readonly random: Random;
  readonly #ends = new Map<string, EndState>();
  readonly #servers = new Map<string, RpcServer>();
  #reliable = true;
  #longDelays = false;
  #longReordering = false;
  #closed = false;
  #totalCount = 0;
  #totalBytes = 0;

  constructor(options: SimNetworkOptions) {
    this.clock = options.clock;
    this.random = options.random;
  }

  /** Creates a client end, disabled and unconnected. The name must be new. */
  makeEnd(name: string): SimClientEnd {
    if (this.#ends.has(name)) throw new SimNetworkError(`client end ${name} already exists`);
    const end = new SimClientEnd(name, (method, args, options) =>
      this.#process(name, method, args, options),
    );
    this.#ends.set(name, { enabled: false, serverName: undefined, end });
    return end;
  }

  deleteEnd(name: string): void {
    if (!this.#ends.delete(name)) throw new SimNetworkError(`no client end ${name}`);
  }

  /** Connects an end to a server name, once per end. The server need not exist yet. */
  connect(endName: string, serverName: string): void {
    const state = this.#end(endName);
    if (state.serverName !== undefined)
      throw new SimNetworkError(`client end ${endName} is already connected`);
    state.serverName = serverName;
  }

  enable(endName: string, enabled: boolean): void {
    this.#end(endName).enabled = enabled;
  }

  /** Binds (or rebinds) a server name. */
  addServer(name: string, server: RpcServer): void {
    this.#servers.set(name, server);
  }

  /** Unbinds a server name; calls in flight to it get no reply. */
  deleteServer(name: string): void {
    this.#servers.delete(name);
  }

  /** Reliable (default) or lossy: 0–26 ms delay, 10% of requests and 10% of replies dropped. */
  setReliable(reliable: boolean): void {
    this.#reliable = reliable;
  }

  /** Calls to an unreachable server take 0–6,999 ms to fail instead of 0–99 ms. */
  setLongDelays(longDelays: boolean): void {
    this.#longDelays = longDelays;
  }

  /** Two thirds of replies are held back 200–2,199 ms, so they arrive out of order. */
  setLongReordering(longReordering: boolean): void {
    this.#longReordering = longReordering;
  }

  /** Calls that reached a handler on the server currently bound to `serverName`. */
  getCount(serverName: string): number {
    return this.#servers.get(serverName)?.callCount ?? 0;
  }

  /** Every call that entered the network. */
  getTotalCount(): number {
    return this.#totalCount;
  }

  /** Encoded arguments of every call plus encoded replies actually delivered. */
  getTotalBytes(): number {
    return this.#totalBytes;
  }

  /** Shuts the network: calls made from now on get `CLOSED`. */
  cleanup(): void {
    this.#closed = true;
  }

  #end(name: string): EndState {
    const state = this.#ends.get(name);
    if (state === undefined) throw new SimNetworkError(`no client end ${name}`);
    return state;
  }

  /** The labrpc per-call procedure; see labrpc.md "Per-call processing". */
  #process<R>(
    endName: string,
    method: string,
    args: unknown,
    options: CallOptions | undefined,
  ): Promise<CallResult<R>> {
    let request: Buffer;
    try {
      request = encode(args);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#closed) return Promise.resolve({ ok: false, code: 'CLOSED' });
    this.#totalCount++;
    this.#totalBytes += request.length;

    const state = this.#ends.get(endName);
    const serverName = state?.serverName;
    const server = serverName === undefined ? undefined : this.#servers.get(serverName);
    const reliable = this.#reliable;
    const longReordering = this.#longReordering;
    const { clock, random } = this;

    return new Promise<CallResult<R>>((resolve) => {
      let settled = false;
      let timeout: TimerHandle | undefined;
      const settle = (result: CallResult<R>): void => {
        if (settled) return;
        settled = true;
        if (timeout !== undefined) clock.clearTimeout(timeout);
        resolve(result);
      };
      if (options?.timeoutMs !== undefined) {
        timeout = clock.setTimeout(() => settle({ ok: false, code: 'TIMEOUT' }), options.timeoutMs);
      }

      if (state === undefined || !state.enabled || server === undefined) {
        const delay = this.#longDelays ? random.int(7000) : random.int(100);
        clock.setTimeout(() => settle({ ok: false, code: 'UNREACHABLE' }), delay);
        return;
      }

      const dead = (): boolean =>
        !state.enabled || this.#servers.get(serverName as string) !== server;

      let handled = false;
      const finish = (result: DispatchResult): void => {
        handled = true;
        if (settled) return;
        if (dead()) {
          settle({ ok: false, code: 'UNREACHABLE' });
          return;
        }
        if (!reliable && random.int(1000) < 100) {
          settle({ ok: false, code: 'DROPPED' });
          return;
        }
        let reply: Buffer;
        try {
          reply = encode(result);
        } catch (err) {
          const message = `reply cannot be encoded: ${(err as Error).message}`;
          reply = encode({ ok: false, code: 'HANDLER_ERROR', message });
        }
        const deliver = (): void => {
          this.#totalBytes += reply.length;
          settle(decode(reply) as CallResult<R>);
        };
        if (longReordering && random.int(900) < 600) {
          clock.setTimeout(deliver, 200 + random.int(1 + random.int(2000)));
        } else {
          deliver();
        }
      };

      clock.setTimeout(
        () => {
          if (settled) return;
          if (!reliable && random.int(1000) < 100) {
            settle({ ok: false, code: 'DROPPED' });
            return;
          }
          const out = server.dispatch(method, decode(request), { peer: endName });
          if (!(out instanceof Promise)) return finish(out);
          const watch = (): void => {
            if (settled || handled) return;
            if (dead()) settle({ ok: false, code: 'UNREACHABLE' });
            else clock.setTimeout(watch, DEAD_CHECK_MS);
          };
          clock.setTimeout(watch, DEAD_CHECK_MS);
          out.then(finish);
        },
        reliable ? 0 : random.int(27),
      );
    });
  }
}

/** A client end on a `SimNetwork`; made by `SimNetwork.makeEnd`. */
export class SimClientEnd implements ClientEnd {
  readonly name: string;
  readonly #send: SendFn;

  /** @internal made by `SimNetwork.makeEnd`, which passes its per-call procedure. */
  constructor(name: string, send: SendFn) {
    this.name = name;
    this.#send = send;
  }

  call<R = unknown>(method: string, args: unknown, options?: CallOptions): Promise<CallResult<R>> {
    return this.#send(method, args, options) as Promise<CallResult<R>>;
  }
}

type SendFn = (
  method: string,
  args: unknown,
  options: CallOptions | undefined,
) => Promise<CallResult<unknown>>;
