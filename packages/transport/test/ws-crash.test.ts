/**
 * Frames that must not take a process down. These inputs crash the process running the
 * WsServer / WsClient (an exception escapes a `ws` 'message' listener), so the victim runs in a
 * child process (node --import tsx) and the test checks that it survives and keeps working.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { decode, encode } from '../src/index.js';
import {
  ERROR,
  HELLO,
  RawConn,
  REPLY,
  REQUEST,
  Scope,
  WELCOME,
  waitFor,
  within,
} from './support/ws-helpers.js';

const SRC = new URL('../src/index.ts', import.meta.url).href;
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

const scope = new Scope();
afterEach(() => scope.closeAll());

interface Child {
  readonly proc: ChildProcess;
  stdout: string;
  stderr: string;
  exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;
}

/** Runs `code` (an ES module; `SRC` is the transport's source) in a child node process. */
function runChild(code: string, env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, TRANSPORT_SRC: SRC },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const child: Child = {
    proc,
    stdout: '',
    stderr: '',
    exitCode: undefined,
    exited: new Promise((resolve) => {
      proc.once('exit', (code) => {
        child.exitCode = code;
        resolve(code);
      });
    }),
  };
  proc.stdout?.on('data', (chunk: Buffer) => {
    child.stdout += chunk.toString();
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    child.stderr += chunk.toString();
  });
  scope.defer(async () => {
    if (child.exitCode === undefined) {
      proc.kill('SIGKILL');
      await child.exited;
    }
  });
  return child;
}

function describeChild(child: Child): string {
  return `child exit ${String(child.exitCode)}; stdout: ${child.stdout.trim()}; stderr: ${child.stderr.trim().split('\n').slice(0, 6).join(' | ')}`;
}

async function lineFrom(child: Child, prefix: string): Promise<string> {
  await waitFor(
    () =>
      child.stdout.split('\n').some((l) => l.startsWith(prefix)) || child.exitCode !== undefined,
    `"${prefix}" from the child`,
    10_000,
  );
  const line = child.stdout.split('\n').find((l) => l.startsWith(prefix));
  if (line === undefined) throw new Error(`no "${prefix}" line: ${describeChild(child)}`);
  return line.slice(prefix.length).trim();
}

// ---------------------------------------------------------------------------------------------
// Server side

const SERVER_CHILD = `
const { RpcServer, silentLogger, WsServer } = await import(process.env.TRANSPORT_SRC);
const rpcServer = new RpcServer({ logger: silentLogger }).addService('test', { echo: (args) => args });
const server = await WsServer.listen({ rpcServer, logger: silentLogger });
process.stdout.write('PORT ' + server.port + '\\n');
process.stdin.on('end', () => server.close().then(() => process.exit(0)));
process.stdin.resume();
`;

async function startServerChild(): Promise<{ child: Child; url: string }> {
  const child = runChild(SERVER_CHILD);
  const port = await lineFrom(child, 'PORT ');
  return { child, url: `ws://127.0.0.1:${port}` };
}

describe('a WsServer process', () => {
  it('survives ordinary bad frames (baseline for the child-process harness)', async () => {
    const { child, url } = await startServerChild();
    const raw = await RawConn.authenticated(scope, url);
    raw.send([9, 1, 'test.echo', null]);
    expect(await raw.next()).toEqual([ERROR, 1, 'BAD_FRAME', 'unexpected frame type 9']);
    expect(await raw.request(2, 'test.echo', 'ok')).toEqual([REPLY, 2, 'ok']);
    child.proc.stdin?.end();
    expect(await within(child.exited, 5000, 'the child to exit')).toBe(0);
  }, 15_000);

  // BUG (src/ws/frames.ts:48, parseRequest): `unexpected frame type ${String(type)}` throws
  // TypeError ("Cannot convert object to primitive value") when the frame's first element
  // decodes to a map with a non-callable "toString" (or "valueOf") key, e.g. the 13 bytes
  // encode([{ toString: 0 }, 1, 'x', null]). The throw escapes Connection.#onMessage
  // (ws-server.ts:180) inside ws's 'message' event and kills the server process: any
  // authenticated client can crash the server with one frame. (Found by fuzz-ws-server.)
  // Fix: describe untrusted values without String(), e.g.
  //   const describe = (v: unknown) => (typeof v === 'number' ? String(v) : typeof v);
  //   return `unexpected frame type ${describe(type)}`;
  // and, as defence in depth, wrap the body of Connection.#onMessage in try/catch (answer
  // BAD_FRAME / close the connection on an unexpected exception). Remove `.fails` once fixed.
  it('survives a frame whose type is a map with a non-callable toString', async () => {
    const { child, url } = await startServerChild();
    const raw = await RawConn.authenticated(scope, url);
    raw.send([{ toString: 0 }, 1, 'test.echo', null]);
    try {
      expect(await raw.next(3000)).toEqual([ERROR, 1, 'BAD_FRAME', expect.any(String)]);
      expect(await raw.request(2, 'test.echo', 'alive')).toEqual([REPLY, 2, 'alive']);
    } catch (err) {
      await within(child.exited, 3000, 'the child to exit').catch(() => undefined);
      throw new Error(`${String(err)}; ${describeChild(child)}`);
    }
  }, 15_000);
});

// ---------------------------------------------------------------------------------------------
// Client side: a raw server in this process, the WsClient in a child

const CLIENT_CHILD = `
const { WsClient, silentLogger } = await import(process.env.TRANSPORT_SRC);
const client = new WsClient({
  url: process.env.WS_URL,
  ...(process.env.DEFAULT_LOGGER ? {} : { logger: silentLogger }),
  reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
});
await client.ready();
const first = await client.call('x.y', 1, { timeoutMs: 3000 });
await client.ready();
const second = await client.call('x.y', 2, { timeoutMs: 3000 });
process.stdout.write('RESULT ' + JSON.stringify({ first, second }) + '\\n');
await client.close();
process.exit(0);
`;

/**
 * A raw server: welcomes; on the first connection answers the first request with `bad(id)`
 * (followed by a proper reply when `thenReply`); answers everything else properly.
 */
async function trickyServer(
  bad: (id: number) => Buffer,
  thenReply: boolean,
): Promise<{ url: string; connections: () => number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  scope.defer(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of wss.clients) socket.terminate();
        wss.close(() => resolve());
      }),
  );
  let connections = 0;
  let tricked = false;
  wss.on('connection', (socket) => {
    connections++;
    socket.on('message', (data) => {
      const frame = decode(data as Buffer) as unknown[];
      if (frame[0] === HELLO) {
        socket.send(encode([WELCOME, 1]));
        return;
      }
      if (frame[0] !== REQUEST) return;
      const id = frame[1] as number;
      if (!tricked) {
        tricked = true;
        socket.send(bad(id));
        if (!thenReply) return;
      }
      socket.send(encode([REPLY, id, frame[3]]));
    });
  });
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}`, connections: () => connections };
}

async function runClientChild(
  url: string,
  defaultLogger = false,
): Promise<{ child: Child; result: { first: unknown; second: unknown } }> {
  const child = runChild(CLIENT_CHILD, {
    WS_URL: url,
    ...(defaultLogger ? { DEFAULT_LOGGER: '1' } : {}),
  });
  const code = await within(child.exited, 12_000, 'the client child to finish');
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || line === undefined)
    throw new Error(`the client process died: ${describeChild(child)}`);
  return {
    child,
    result: JSON.parse(line.slice('RESULT '.length)) as { first: unknown; second: unknown },
  };
}

describe('a WsClient process', () => {
  it('survives an ordinary bad frame from the server (baseline)', async () => {
    const server = await trickyServer(() => encode([9, 1]), false);
    const { result } = await runClientChild(server.url);
    expect(result).toEqual({
      first: { ok: false, code: 'CONNECTION_LOST' },
      second: { ok: true, reply: 2 },
    });
    expect(server.connections()).toBe(2);
  }, 15_000);

  // BUG (src/ws/ws-client.ts, #onMessage, last line: `unexpected frame type ${String(type)}`):
  // same TypeError as the server's, here for a frame from the server whose type is a map with
  // a non-callable toString; it escapes the ws 'message' listener and kills the client
  // process. Fix: describe the type without String() (see the server-side fix).
  it('survives a frame whose type is a map with a non-callable toString', async () => {
    const server = await trickyServer(() => encode([{ toString: 0 }, 1]), false);
    const { result } = await runClientChild(server.url);
    expect(result).toEqual({
      first: { ok: false, code: 'CONNECTION_LOST' },
      second: { ok: true, reply: 2 },
    });
  }, 15_000);

  // BUG (src/ws/ws-client.ts, #onMessage, ERROR branch:
  // `const text = typeof message === 'string' ? message : String(code);`): an ERROR frame with a
  // non-string message and a code that String() cannot convert (a map with toString: 0) throws
  // and kills the client process. Fix: `typeof message === 'string' ? message :
  // typeof code === 'string' ? code : 'error'` (never String() an untrusted value).
  it('survives an ERROR frame whose code cannot be converted to a string', async () => {
    const server = await trickyServer((id) => encode([ERROR, id, { toString: 0 }, 0]), false);
    const { result } = await runClientChild(server.url);
    expect(result).toEqual({
      first: { ok: false, code: 'HANDLER_ERROR', message: expect.any(String) },
      second: { ok: true, reply: 2 },
    });
  }, 15_000);

  // BUG (src/logger.ts, writeLine; reached from src/ws/ws-client.ts #onMessage,
  // 'ws client: error frame for no call', which logs the server's `code` as is): msgpack int64
  // values decode to BigInt, and JSON.stringify throws "Do not know how to serialize a BigInt",
  // so with the default stderrLogger an ERROR frame for an unknown id whose code is an integer
  // kills the client process. Fix: make writeLine never throw, e.g.
  //   JSON.stringify({ level, msg, ...fields }, (_k, v) => (typeof v === 'bigint' ? String(v) : v))
  // inside try/catch (fall back to the message alone); and log only `typeof code` or a
  // validated code string from ws-client.ts.
  it('survives an ERROR frame for no call with an integer code, under the default logger', async () => {
    const server = await trickyServer(() => encode([ERROR, 424_242, 7n, 'boom']), true);
    const { child, result } = await runClientChild(server.url, true);
    expect(result).toEqual({ first: { ok: true, reply: 1 }, second: { ok: true, reply: 2 } });
    expect(child.stderr).toMatch(/error frame for no call/);
  }, 15_000);
});
