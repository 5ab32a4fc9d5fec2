import { type Clock, realClock } from './clock.js';
import { errorMessage } from './codec.js';
import { BadArgumentsError, ServiceDefinitionError } from './errors.js';
import { type Logger, rateLimitedLogger, stderrLogger } from './logger.js';
import type { CallContext, Handler, NoReplyCode, ServiceMethods } from './rpc.js';

/** The outcome of dispatching one call on a server: a reply, or a server-side failure. */
export type DispatchResult =
  | { readonly ok: true; readonly reply: unknown }
  | { readonly ok: false; readonly code: NoReplyCode; readonly message: string };

export interface RpcServerOptions {
  /** Where refused calls are logged, at most `maxLogLinesPerSecond` lines a second. */
  readonly logger?: Logger;
  readonly maxLogLinesPerSecond?: number;
  /** Only for the log rate limit. */
  readonly clock?: Clock;
}

const SERVICE_NAME = /^[A-Za-z_][\w-]*$/;

/**
 * A named bundle of services behind one dispatcher (the lab's `labrpc.Server`). The same
 * `RpcServer` can be attached to a `SimNetwork` and exposed by a `WsServer`.
 */
export class RpcServer {
  readonly #services = new Map<string, Map<string, Handler<unknown, unknown>>>();
  readonly #logger: Logger;
  #callCount = 0;

  constructor(options: RpcServerOptions = {}) {
    this.#logger = rateLimitedLogger(
      options.logger ?? stderrLogger,
      options.clock ?? realClock,
      options.maxLogLinesPerSecond,
    );
  }

  /** Registers a service; its methods are called as `"<name>.<method>"`. */
  addService(name: string, methods: ServiceMethods): this {
    if (!SERVICE_NAME.test(name))
      throw new ServiceDefinitionError(`bad service name ${JSON.stringify(name)}`);
    if (this.#services.has(name))
      throw new ServiceDefinitionError(`service ${name} is already registered`);
    const table = new Map<string, Handler<unknown, unknown>>();
    for (const [method, handler] of Object.entries(methods)) {
      if (typeof handler !== 'function')
        throw new ServiceDefinitionError(`${name}.${method} is not a function`);
      table.set(method, handler as Handler<unknown, unknown>);
    }
    this.#services.set(name, table);
    return this;
  }

  /** Calls that reached a handler (or were refused by the dispatcher) on this server. */
  get callCount(): number {
    return this.#callCount;
  }

  /**
   * Runs one call. Returns synchronously when the handler does, so a simulated network adds
   * no promise turns to synchronous handlers. Never throws.
   */
  dispatch(
    method: string,
    args: unknown,
    context: CallContext,
  ): DispatchResult | Promise<DispatchResult> {
    this.#callCount++;
    const handler = this.#lookup(method);
    if (handler === undefined) {
      this.#logger.warn({ method, peer: context.peer }, 'rpc: unknown method');
      return { ok: false, code: 'UNKNOWN_METHOD', message: `unknown method ${method}` };
    }
    let out: unknown;
    try {
      out = handler(args, context);
    } catch (err) {
      return this.#failure(method, context, err);
    }
    if (isPromiseLike(out)) {
      return Promise.resolve(out).then(
        (reply): DispatchResult => ({ ok: true, reply }),
        (err) => this.#failure(method, context, err),
      );
    }
    return { ok: true, reply: out };
  }

  #lookup(method: string): Handler<unknown, unknown> | undefined {
    const dot = method.lastIndexOf('.');
    if (dot <= 0) return undefined;
    return this.#services.get(method.slice(0, dot))?.get(method.slice(dot + 1));
  }

  #failure(method: string, context: CallContext, err: unknown): DispatchResult {
    if (err instanceof BadArgumentsError) {
      this.#logger.warn({ method, peer: context.peer, reason: err.message }, 'rpc: bad arguments');
      return { ok: false, code: 'BAD_ARGUMENTS', message: err.message };
    }
    this.#logger.warn(
      { method, peer: context.peer, error: errorMessage(err) },
      'rpc: handler threw',
    );
    return { ok: false, code: 'HANDLER_ERROR', message: errorMessage(err) };
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
