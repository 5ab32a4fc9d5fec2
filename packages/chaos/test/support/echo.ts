/**
 * A tiny ws echo server and a client that records what it receives: the far ends of the
 * proxy tests. Every wait is bounded (devkit's poll / within).
 */
import { poll, within } from '@flotilla/devkit/time/within';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

export interface Received {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

export interface EchoServer {
  readonly url: string;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  /** Every message the server received (and echoed). */
  readonly received: Received[];
  close(): Promise<void>;
}

export async function startEcho(): Promise<EchoServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  let accepted = 0;
  const received: Received[] = [];
  wss.on('connection', (socket) => {
    accepted++;
    socket.on('message', (data, isBinary) => {
      received.push({ data: toBuffer(data), isBinary });
      socket.send(data, { binary: isBinary });
    });
  });
  return {
    url: `ws://127.0.0.1:${address.port}`,
    accepted: () => accepted,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

export interface TestClient {
  readonly socket: WebSocket;
  readonly received: Received[];
  /** Resolves with the close code once the socket is closed. */
  readonly closed: Promise<number>;
  /** Waits (bounded) until `n` messages have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
}

export async function connect(url: string, timeoutMs = 5000): Promise<TestClient> {
  const socket = new WebSocket(url);
  const received: Received[] = [];
  socket.on('message', (data, isBinary) => received.push({ data: toBuffer(data), isBinary }));
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  socket.on('error', () => {});
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('close', (code) => reject(new Error(`closed with ${code} before opening`)));
    }),
    timeoutMs,
    `a connection to ${url}`,
  );
  return {
    socket,
    received,
    closed,
    waitFor: (n, ms = 5000) =>
      poll(`${n} messages`, () => (received.length >= n ? true : undefined), {
        timeoutMs: ms,
      }).then(() => undefined),
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
