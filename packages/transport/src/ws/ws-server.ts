import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { type Clock, realClock, type TimerHandle } from '../clock.js';
import { decode, encode, errorMessage } from '../codec.js';
import { type Logger, rateLimitedLogger, stderrLogger } from '../logger.js';
import type { DispatchResult, RpcServer } from '../rpc-server.js';
import { tokenMatches } from './auth.js';
import {
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
} from './defaults.js';
import {
  announcedFrameLimit,
  CloseCode,
  FrameType,
  isRequestId,
  PROTOCOL_VERSION,
  parseRequest,
} from './frames.js';

export interface WsServerOptions {
  /** The services to expose. */
  readonly rpcServer: RpcServer;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: an ephemeral port (read it back from `port`). */
  readonly port?: number;
  /** When set, a client's hello must carry this shared secret or the connection is closed. */
  readonly authToken?: string;
  /** Largest frame accepted or sent, in bytes (default 16 MiB). Larger incoming frames close the connection. */
  readonly maxFrameBytes?: number;
  /** Close connections that have not said hello within this time (default 5 s). */
  readonly helloTimeoutMs?: number;
  /** Stop reading from a connection while this many of its calls are being handled (default 1024). */
  readonly maxInFlightPerConnection?: number;
  /** Stop reading from a connection while this many reply bytes wait to be sent to it (default 4 MiB). */
  readonly highWaterMarkBytes?: number;
  /** Connection-level warnings (auth failures, bad frames), at most this many lines a second (default 20). */
  readonly logger?: Logger;
  readonly maxLogLinesPerSecond?: number;
  readonly clock?: Clock;
}

/**
 * Serves an `RpcServer` over WebSocket (msgpack frames, see frames.ts). A connection that
 * sends garbage gets an error frame or is closed; it never takes the server down.
 */
export class WsServer {
  readonly host: string;
  readonly port: number;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<Connection>();
  #closing: Promise<void> | undefined;

  private constructor(wss: WebSocketServer, options: WsServerOptions) {
    this.#wss = wss;
    const address = wss.address() as AddressInfo;
    this.host = address.address;
    this.port = address.port;
    const settings: ConnectionSettings = {
      rpcServer: options.rpcServer,
      authToken: options.authToken,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      helloTimeoutMs: options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
      maxInFlight: options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
      highWaterMark: options.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK_BYTES,
      logger: rateLimitedLogger(
        options.logger ?? stderrLogger,
        options.clock ?? realClock,
        options.maxLogLinesPerSecond,
      ),
      clock: options.clock ?? realClock,
    };
    wss.on('connection', (socket, request) => {
      const peer = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
      const connection = new Connection(socket, request.socket, peer, settings, () =>
        this.#connections.delete(connection),
      );
      this.#connections.add(connection);
    });
    wss.on('error', (err) => settings.logger.warn({ error: errorMessage(err) }, 'ws server error'));
  }

  /** Starts listening; resolves once the port is bound. */
  static listen(options: WsServerOptions): Promise<WsServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({
        host: options.host ?? '127.0.0.1',
        port: options.port ?? 0,
        maxPayload: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
        perMessageDeflate: false,
        clientTracking: false,
      });
      const onError = (err: Error): void => {
        wss.close();
        reject(err);
      };
      wss.once('error', onError);
      wss.once('listening', () => {
        wss.off('error', onError);
        resolve(new WsServer(wss, options));
      });
    });
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `ws://${host}:${this.port}`;
  }

  /** Open connections (authenticated or not). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Stops listening and closes every connection; calls being handled lose their replies.
   * Idempotent: every call gets the promise of the first.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  #close(): Promise<void> {
    for (const connection of this.#connections) connection.terminate();
    this.#connections.clear();
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }
}

interface ConnectionSettings {
  readonly rpcServer: RpcServer;
  readonly authToken: string | undefined;
  readonly maxFrameBytes: number;
  readonly helloTimeoutMs: number;
  readonly maxInFlight: number;
  readonly highWaterMark: number;
  readonly logger: Logger;
  readonly clock: Clock;
}

class Connection {
  readonly #socket: WebSocket;
  readonly #peer: string;
  readonly #settings: ConnectionSettings;
  #authenticated = false;
  #closed = false;
  #helloTimer: TimerHandle | undefined;
  #inFlight = 0;
  /** The smaller of our limit and the one the client announced: the largest reply we send. */
  #maxReplyBytes: number;
  readonly #raw: Duplex;
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#raw.uncork();
  };
  #paused = false;
  #draining = false;
  /** Frames ws emitted after we paused (the rest of the chunk it had read): handled on resume. */
  readonly #backlog: Array<readonly [RawData, boolean]> = [];
  #badFrames = 0;

  constructor(
    socket: WebSocket,
    raw: Duplex,
    peer: string,
    settings: ConnectionSettings,
    onClose: () => void,
  ) {
    this.#socket = socket;
    this.#raw = raw;
    this.#peer = peer;
    this.#settings = settings;
    this.#maxReplyBytes = settings.maxFrameBytes;
    this.#helloTimer = settings.clock.setTimeout(() => {
      this.#helloTimer = undefined;
      this.#close(CloseCode.HELLO_TIMEOUT, 'no hello');
    }, settings.helloTimeoutMs);
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on('error', (err) => {
      settings.logger.warn({ peer, error: errorMessage(err) }, 'ws connection error');
    });
    socket.on('close', () => {
      this.#closed = true;
      if (this.#helloTimer !== undefined) settings.clock.clearTimeout(this.#helloTimer);
      if (this.#badFrames > 1) {
        settings.logger.warn(
          { peer, badFrames: this.#badFrames },
          'ws connection closed after bad frames',
        );
      }
      onClose();
    });
  }

  terminate(): void {
    this.#closed = true;
    this.#socket.terminate();
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    if (this.#paused || this.#draining || this.#backlog.length > 0) {
      this.#backlog.push([data, isBinary]);
      return;
    }
    this.#handle(data, isBinary);
  }

  #handle(data: RawData, isBinary: boolean): void {
    try {
      this.#handleFrame(data, isBinary);
    } catch (err) {
      // Nothing a peer sends may take the process down; a bug here costs one connection.
      this.#settings.logger.warn(
        { peer: this.#peer, error: errorMessage(err) },
        'ws: error handling a frame',
      );
      this.#close(1011, 'internal error');
    }
  }

  #handleFrame(data: RawData, isBinary: boolean): void {
    let frame: unknown;
    try {
      if (!isBinary) throw new Error('text frames are not accepted');
      frame = decode(data as Buffer);
    } catch (err) {
      if (!this.#authenticated) {
        this.#close(CloseCode.PROTOCOL, 'bad hello');
        return;
      }
      this.#badFrame(0, errorMessage(err));
      return;
    }
    if (!this.#authenticated) {
      this.#onHello(frame);
      return;
    }

    const request = parseRequest(frame);
    if (typeof request === 'string') {
      const id = Array.isArray(frame) && isRequestId(frame[1]) ? frame[1] : 0;
      this.#badFrame(id, request);
      return;
    }
    this.#inFlight++;
    this.#updateFlow();
    const out = this.#settings.rpcServer.dispatch(request.method, request.args, {
      peer: this.#peer,
    });
    if (out instanceof Promise) out.then((result) => this.#reply(request.id, result));
    else this.#reply(request.id, out);
  }

  #onHello(frame: unknown): void {
    const ok =
      Array.isArray(frame) &&
      (frame.length === 3 || frame.length === 4) &&
      frame[0] === FrameType.HELLO &&
      frame[1] === PROTOCOL_VERSION;
    if (!ok) {
      this.#close(CloseCode.PROTOCOL, 'bad hello');
      return;
    }
    const expected = this.#settings.authToken;
    if (expected !== undefined && !tokenMatches(expected, frame[2])) {
      this.#settings.logger.warn({ peer: this.#peer }, 'ws auth failed; closing connection');
      this.#close(CloseCode.AUTH_FAILED, 'auth failed');
      return;
    }
    this.#authenticated = true;
    this.#maxReplyBytes = Math.min(
      this.#settings.maxFrameBytes,
      announcedFrameLimit(frame[3]) ?? Number.POSITIVE_INFINITY,
    );
    if (this.#helloTimer !== undefined) this.#settings.clock.clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    this.#send(encode([FrameType.WELCOME, PROTOCOL_VERSION, this.#settings.maxFrameBytes]));
  }

  #reply(id: number, result: DispatchResult): void {
    this.#inFlight--;
    if (this.#closed) return;
    let bytes: Buffer;
    if (result.ok) {
      try {
        bytes = encode([FrameType.REPLY, id, result.reply]);
      } catch (err) {
        this.#settings.logger.warn(
          { peer: this.#peer, error: errorMessage(err) },
          'rpc: reply cannot be encoded',
        );
        bytes = encode([FrameType.ERROR, id, 'HANDLER_ERROR', 'reply cannot be encoded']);
      }
    } else {
      bytes = encode([FrameType.ERROR, id, result.code, result.message]);
    }
    if (bytes.length > this.#maxReplyBytes) {
      const message = `reply of ${bytes.length} bytes exceeds the frame limit of ${this.#maxReplyBytes}`;
      bytes = encode([FrameType.ERROR, id, 'REPLY_TOO_LARGE', message]);
    }
    this.#send(bytes);
    this.#updateFlow();
  }

  #badFrame(id: number, reason: string): void {
    if (this.#badFrames++ === 0) {
      this.#settings.logger.warn({ peer: this.#peer, reason }, 'ws: bad frame');
    }
    this.#send(encode([FrameType.ERROR, id, 'BAD_FRAME', reason]));
    this.#updateFlow();
  }

  #send(bytes: Buffer): void {
    // Replies written in one tick go out in one write(2): each write costs ~5 µs, about as
    // much as the rest of a call (measured by bench/rpc.ts: −18% server CPU per call).
    if (!this.#corked) {
      this.#corked = true;
      this.#raw.cork();
      process.nextTick(this.#uncork);
    }
    if (this.#socket.bufferedAmount + bytes.length > this.#settings.highWaterMark) {
      this.#socket.send(bytes, () => this.#updateFlow());
    } else {
      this.#socket.send(bytes);
    }
  }

  #saturated(): boolean {
    return (
      this.#inFlight >= this.#settings.maxInFlight ||
      this.#socket.bufferedAmount > this.#settings.highWaterMark
    );
  }

  /**
   * Backpressure: stop reading while too many calls are in flight or too many reply bytes are
   * unsent; when that clears, handle the backlog first, then read again.
   */
  #updateFlow(): void {
    if (this.#closed) return;
    if (this.#saturated()) {
      if (!this.#paused) {
        this.#paused = true;
        this.#socket.pause();
      }
      return;
    }
    if (this.#draining) return;
    this.#draining = true;
    while (!this.#closed && this.#backlog.length > 0 && !this.#saturated()) {
      const [data, isBinary] = this.#backlog.shift() as readonly [RawData, boolean];
      this.#handle(data, isBinary);
    }
    this.#draining = false;
    if (this.#paused && !this.#closed && this.#backlog.length === 0 && !this.#saturated()) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  #close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close(code, reason);
  }
}
