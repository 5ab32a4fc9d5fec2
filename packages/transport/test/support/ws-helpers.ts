import { once } from 'node:events';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { poll, sleep, within } from '@flotilla/devkit/time/within';
import WebSocket, { type RawData } from 'ws';
import {
  type CallContext,
  type CallResult,
  decode,
  encode,
  type Logger,
  RpcServer,
  type ServiceMethods,
  validated,
  type WsClient,
  WsServer,
  type WsServerOptions,
} from '../../src/index.js';

/** Frame type tags of the wire protocol (see src/ws/frames.ts). */
export const HELLO = 0;
export const WELCOME = 1;
export const REQUEST = 2;
export const REPLY = 3;
export const ERROR = 4;

// ---------------------------------------------------------------------------------------------
// Logging

export interface LogLine {
  readonly level: 'warn' | 'info';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

export interface CapturingLogger extends Logger {
  readonly lines: LogLine[];
  /** Lines whose message is exactly `message`. */
  count(message: string): number;
}

/** A Logger that keeps every line (for asserting "logs one line"). */
export function capturingLogger(): CapturingLogger {
  const lines: LogLine[] = [];
  return {
    lines,
    warn: (fields, message) => {
      lines.push({ level: 'warn', message, fields });
    },
    info: (fields, message) => {
      lines.push({ level: 'info', message, fields });
    },
    count: (message) => lines.filter((line) => line.message === message).length,
  };
}

export interface CountingLogger extends Logger {
  readonly counts: Map<string, number>;
  count(message: string): number;
}

/** A Logger that only counts lines per message (keeps no per-line state: for long fuzz runs). */
export function countingLogger(): CountingLogger {
  const counts = new Map<string, number>();
  const bump = (_fields: Record<string, unknown>, message: string): void => {
    counts.set(message, (counts.get(message) ?? 0) + 1);
  };
  return { counts, warn: bump, info: bump, count: (message) => counts.get(message) ?? 0 };
}

// ---------------------------------------------------------------------------------------------
// Waiting (never sleep as an assertion: wait for a condition, with a deadline)

/** Rejects with a descriptive error if a promise has not settled in time (devkit's). */
export { within };

/** Polls `condition` every 2 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  await poll(what, () => (condition() ? true : undefined), { timeoutMs, everyMs: 2 });
}

/**
 * Waits until `read()` has stopped changing for `quietMs` (a plateau), and returns the value.
 * Fails if it keeps changing past `timeoutMs`.
 */
export async function plateau(
  read: () => number,
  quietMs: number,
  timeoutMs = 5000,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let value = read();
  let since = performance.now();
  for (;;) {
    await sleep(5);
    const now = performance.now();
    const next = read();
    if (next !== value) {
      value = next;
      since = now;
    } else if (now - since >= quietMs) {
      return value;
    }
    if (now > deadline) throw new Error(`value still changing after ${timeoutMs} ms (at ${value})`);
  }
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// ---------------------------------------------------------------------------------------------
// Resources: everything a test opens is closed in afterEach

export class Scope {
  readonly #cleanups: Array<() => Promise<void> | void> = [];

  defer(cleanup: () => Promise<void> | void): void {
    this.#cleanups.push(cleanup);
  }

  /** Runs every cleanup (last opened first); reports the first failure after running all. */
  async closeAll(): Promise<void> {
    let failure: unknown;
    while (this.#cleanups.length > 0) {
      const cleanup = this.#cleanups.pop() as () => Promise<void> | void;
      try {
        await within(Promise.resolve(cleanup()), 5000, 'a cleanup');
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }

  track<T extends WsServer | WsClient>(resource: T): T {
    this.defer(() => resource.close());
    return resource;
  }
}

export async function listen(scope: Scope, options: WsServerOptions): Promise<WsServer> {
  return scope.track(await WsServer.listen(options));
}

// ---------------------------------------------------------------------------------------------
// Services used by several files

export interface Probe {
  /** Handler invocations per method name. */
  readonly calls: Map<string, number>;
}

export function probe(): Probe {
  return { calls: new Map() };
}

function bump(p: Probe, name: string): void {
  p.calls.set(name, (p.calls.get(name) ?? 0) + 1);
}

/** The guard of `test.checked`. */
export const isCheckedArgs = (args: unknown): args is { n: number } =>
  typeof args === 'object' &&
  args !== null &&
  !Array.isArray(args) &&
  typeof (args as { n?: unknown }).n === 'number';

/**
 * `test.echo` (returns its args), `test.throw`, `test.checked` (validated: `{ n: number }`),
 * `test.unencodable` (returns an object holding a function), `test.never` (never settles).
 */
export function testService(p: Probe = probe()): ServiceMethods {
  const checked = validated(isCheckedArgs, (args) => ({ doubled: args.n * 2 }));
  return {
    echo: (args: unknown) => {
      bump(p, 'echo');
      return args;
    },
    throw: () => {
      bump(p, 'throw');
      throw new Error('handler exploded');
    },
    checked: (args: unknown, context: CallContext) => {
      bump(p, 'checked');
      return checked(args, context);
    },
    unencodable: () => {
      bump(p, 'unencodable');
      return { ok: true, fn: () => 1 };
    },
    never: () => {
      bump(p, 'never');
      return new Promise<never>(() => {});
    },
  };
}

export function testRpcServer(logger: Logger, p: Probe = probe()): RpcServer {
  return new RpcServer({ logger }).addService('test', testService(p));
}

// ---------------------------------------------------------------------------------------------
// A raw `ws` connection speaking the wire protocol by hand

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export class RawConn {
  readonly ws: WebSocket;
  /** Messages received and not yet taken by `next()`. */
  readonly #inbox: Buffer[] = [];
  #waiter: (() => void) | undefined;
  /** Messages received so far (taken or not). */
  received = 0;
  /** When set, incoming messages are only counted, not kept. */
  discard = false;
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | undefined;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: RawData) => {
      this.received++;
      if (!this.discard) this.#inbox.push(data as Buffer);
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.();
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        const waiter = this.#waiter;
        this.#waiter = undefined;
        waiter?.();
      });
    });
  }

  /** Opens a raw socket (no hello sent). */
  static async open(
    scope: Scope,
    url: string,
    options: WebSocket.ClientOptions = {},
  ): Promise<RawConn> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    const conn = new RawConn(ws);
    scope.defer(() => conn.terminate());
    await within(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
      5000,
      'a raw socket to open',
    );
    return conn;
  }

  /** Opens a raw socket and completes the hello/welcome handshake. */
  static async authenticated(scope: Scope, url: string, token?: string): Promise<RawConn> {
    const conn = await RawConn.open(scope, url);
    conn.send([HELLO, 1, token ?? null]);
    const welcome = await conn.next();
    if (!Array.isArray(welcome) || welcome[0] !== WELCOME || welcome[1] !== 1) {
      throw new Error(`expected a welcome, got ${JSON.stringify(welcome)}`);
    }
    return conn;
  }

  /** The underlying TCP socket (to pause/resume reading). */
  get tcp(): Socket {
    return (this.ws as unknown as { _socket: Socket })._socket;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(value: unknown): void {
    this.ws.send(encode(value));
  }

  sendBytes(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  sendText(text: string): void {
    this.ws.send(text, { binary: false });
  }

  /** The next message, decoded. Rejects if the socket closes first or nothing comes in time. */
  async next(timeoutMs = 5000): Promise<unknown> {
    const deadline = performance.now() + timeoutMs;
    while (this.#inbox.length === 0) {
      if (this.closeInfo !== undefined) {
        throw new Error(`socket closed (${this.closeInfo.code}) while waiting for a frame`);
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await within(
        new Promise<void>((resolve) => {
          this.#waiter = resolve;
        }),
        remaining,
        'a frame',
      );
    }
    return decode(this.#inbox.shift() as Buffer);
  }

  /** Sends a REQUEST and returns the next frame (use only when nothing else is in flight). */
  async request(id: number, method: string, args: unknown): Promise<unknown[]> {
    this.send([REQUEST, id, method, args]);
    return (await this.next()) as unknown[];
  }

  /** Waits for the close, with a deadline. */
  async waitClosed(timeoutMs = 5000): Promise<CloseInfo> {
    return within(this.closed, timeoutMs, 'the socket to close');
  }

  async terminate(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = once(this.ws, 'close');
    this.ws.terminate();
    await closed;
  }
}

// ---------------------------------------------------------------------------------------------
// Calls

export interface Settlements {
  /** How many times each call's promise settled (must be exactly 1 for each). */
  readonly counts: number[];
  readonly results: Array<CallResult<unknown> | undefined>;
  track(promise: Promise<CallResult<unknown>>): Promise<CallResult<unknown>>;
  get settled(): number;
}

/** Records every settlement of every tracked call. */
export function settlements(): Settlements {
  const counts: number[] = [];
  const results: Array<CallResult<unknown> | undefined> = [];
  return {
    counts,
    results,
    track(promise) {
      const index = counts.length;
      counts.push(0);
      results.push(undefined);
      promise.then(
        (result) => {
          counts[index] = (counts[index] ?? 0) + 1;
          results[index] = result;
        },
        () => {
          counts[index] = (counts[index] ?? 0) + 1;
        },
      );
      return promise;
    },
    get settled() {
      return counts.filter((n) => n > 0).length;
    },
  };
}

/** The code of a failed call (or 'OK'). */
export function codeOf(result: CallResult<unknown> | undefined): string {
  if (result === undefined) return 'PENDING';
  return result.ok ? 'OK' : result.code;
}
