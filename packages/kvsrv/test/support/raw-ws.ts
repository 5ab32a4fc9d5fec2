import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { decode, encode } from '@flotilla/transport';

/**
 * A WebSocket client written by hand on a raw TCP socket (RFC 6455, client side), so a test
 * can send what no real client would: garbage before the handshake, malformed or oversized
 * frames, anything as a frame's payload. Also speaks the transport's frames (frames.ts).
 */

/** Frame type tags of the transport's wire protocol. */
export const HELLO = 0;
export const WELCOME = 1;
export const REQUEST = 2;
export const REPLY = 3;
export const ERROR = 4;

export const OPCODE = { TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9 } as const;

export interface CloseInfo {
  /** The code of the server's close frame; 1006 when the TCP connection ended without one. */
  readonly code: number;
  readonly reason: string;
}

export interface FrameOptions {
  readonly fin?: boolean;
  /** The three reserved bits (0–7); a server must fail a connection that sets them. */
  readonly rsv?: number;
  /** Clients must mask; false sends an unmasked frame. */
  readonly mask?: boolean;
}

export class RawWs {
  readonly socket: net.Socket;
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | undefined;
  readonly #messages: Array<{ opcode: number; payload: Buffer }> = [];
  #buffer: Buffer = Buffer.alloc(0);
  #waiter: (() => void) | undefined;

  private constructor(socket: net.Socket, leftover: Buffer) {
    this.socket = socket;
    let closeFrame: CloseInfo | undefined;
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.closeInfo = closeFrame ?? { code: 1006, reason: '' };
        resolve(this.closeInfo);
        this.#wake();
      });
    });
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      for (;;) {
        const frame = this.#takeFrame();
        if (frame === undefined) break;
        if (frame.opcode === OPCODE.CLOSE) {
          closeFrame = {
            code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005,
            reason: frame.payload.subarray(2).toString(),
          };
          socket.end();
        } else {
          this.#messages.push(frame);
        }
        this.#wake();
      }
    });
    if (leftover.length > 0) socket.emit('data', leftover);
  }

  /** Opens a TCP connection to `url` (ws://host:port) and completes the HTTP upgrade. */
  static async connect(url: string, timeoutMs = 5000): Promise<RawWs> {
    const { hostname, port } = new URL(url);
    const socket = await connectTcp(hostname, Number(port), timeoutMs);
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const leftover = await new Promise<Buffer>((resolve, reject) => {
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => fail(new Error('no upgrade response')), timeoutMs);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.pause();
        const status = head.subarray(0, head.indexOf('\r\n')).toString();
        if (!/^HTTP\/1\.1 101 /.test(status)) fail(new Error(`upgrade refused: ${status}`));
        else resolve(head.subarray(end + 4));
      };
      const onClose = (): void => fail(new Error('closed during the upgrade'));
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.on('data', onData);
      socket.once('close', onClose);
    });
    const ws = new RawWs(socket, leftover);
    socket.resume();
    return ws;
  }

  /** Connects and completes the transport's hello/welcome. */
  static async hello(url: string, token?: string): Promise<RawWs> {
    const ws = await RawWs.connect(url);
    ws.send([HELLO, 1, token ?? null]);
    const welcome = await ws.next();
    if (!Array.isArray(welcome) || welcome[0] !== WELCOME || welcome[1] !== 1) {
      throw new Error(`expected a welcome, got ${JSON.stringify(welcome)}`);
    }
    return ws;
  }

  get isOpen(): boolean {
    return this.closeInfo === undefined && !this.socket.destroyed;
  }

  /** Sends one frame with `payload` (any length), in one write. */
  sendFrame(opcode: number, payload: Uint8Array, options: FrameOptions = {}): void {
    const header = frameHeader(opcode, payload.length, options);
    if (!(options.mask ?? true)) {
      this.socket.write(Buffer.concat([header, payload]));
      return;
    }
    const key = randomBytes(4);
    const masked = Buffer.from(payload);
    for (let i = 0; i < masked.length; i++) {
      masked[i] = (masked[i] as number) ^ (key[i & 3] as number);
    }
    this.socket.write(Buffer.concat([header, key, masked]));
  }

  /** Sends only a frame's header, claiming a payload of `length` bytes (and its mask key). */
  sendHeaderOnly(opcode: number, length: number): void {
    this.socket.write(Buffer.concat([frameHeader(opcode, length, {}), randomBytes(4)]));
  }

  /** Sends `value` msgpack-encoded in a binary frame. */
  send(value: unknown): void {
    this.sendFrame(OPCODE.BINARY, encode(value));
  }

  sendBytes(bytes: Uint8Array): void {
    this.sendFrame(OPCODE.BINARY, bytes);
  }

  sendText(text: string): void {
    this.sendFrame(OPCODE.TEXT, Buffer.from(text));
  }

  /** Writes bytes to the TCP socket as they are (not in a frame). */
  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next message's payload, msgpack-decoded. Rejects if the socket closes first. */
  async next(timeoutMs = 5000): Promise<unknown> {
    const deadline = performance.now() + timeoutMs;
    while (this.#messages.length === 0) {
      if (this.closeInfo !== undefined) {
        throw new Error(`socket closed (${this.closeInfo.code}) while waiting for a frame`);
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const message = this.#messages.shift() as { opcode: number; payload: Buffer };
    return decode(message.payload);
  }

  /** Sends a REQUEST and returns the next frame (only when nothing else is in flight). */
  async request(id: number, method: string, args: unknown): Promise<unknown> {
    this.send([REQUEST, id, method, args]);
    return this.next();
  }

  /** Waits for the connection to end, with a deadline. */
  async waitClosed(timeoutMs = 5000): Promise<CloseInfo> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the server did not close the socket')), timeoutMs);
    });
    return Promise.race([this.closed, deadline]).finally(() => clearTimeout(timer));
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  /** Parses one complete (unmasked, server-sent) frame off the buffer. */
  #takeFrame(): { opcode: number; payload: Buffer } | undefined {
    const b = this.#buffer;
    if (b.length < 2) return undefined;
    const opcode = (b[0] as number) & 0x0f;
    let length = (b[1] as number) & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    if (b.length < offset + length) return undefined;
    const payload = b.subarray(offset, offset + length);
    this.#buffer = b.subarray(offset + length);
    return { opcode, payload };
  }
}

function frameHeader(opcode: number, length: number, options: FrameOptions): Buffer {
  const first = ((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode;
  const maskBit = (options.mask ?? true) ? 0x80 : 0;
  if (length < 126) return Buffer.from([first, maskBit | length]);
  if (length < 0x10000) {
    const header = Buffer.from([first, maskBit | 126, 0, 0]);
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.alloc(10);
  header[0] = first;
  header[1] = maskBit | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/** A plain TCP connection. */
export function connectTcp(host: string, port: number, timeoutMs = 5000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`could not connect to ${host}:${port}`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * What a raw TCP socket receives until the peer closes it or sends a whole HTTP response head
 * (an HTTP server may keep the connection open after answering), with a deadline.
 */
export function readResponse(socket: net.Socket, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server neither answered nor closed the socket'));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve(received);
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.includes('\r\n\r\n')) done();
    });
    socket.on('error', () => {});
    socket.once('close', done);
  });
}
