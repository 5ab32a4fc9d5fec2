import { afterEach, describe, expect, it } from 'vitest';
import { BadArgumentsError, encode, RpcServer, WsClient, type WsServer } from '../src/index.js';
import {
  type CapturingLogger,
  capturingLogger,
  ERROR,
  listen,
  type Probe,
  probe,
  RawConn,
  REPLY,
  REQUEST,
  Scope,
  testService,
  waitFor,
} from './support/ws-helpers.js';

const BAD_FRAME_LINE = 'ws: bad frame';
const CLOSED_AFTER_BAD_FRAMES_LINE = 'ws connection closed after bad frames';

const scope = new Scope();
afterEach(() => scope.closeAll());

interface Setup {
  server: WsServer;
  log: CapturingLogger;
  rpcLog: CapturingLogger;
  calls: Probe;
  other: WsClient;
}

async function start(): Promise<Setup> {
  const log = capturingLogger();
  const rpcLog = capturingLogger();
  const calls = probe();
  const rpcServer = new RpcServer({ logger: rpcLog })
    .addService('test', testService(calls))
    .addService('async', {
      rejects: async () => {
        throw new Error('async failure');
      },
      badArgs: async () => {
        throw new BadArgumentsError('async guard said no');
      },
      echo: async (args: unknown) => args,
    });
  const server = await listen(scope, { rpcServer, logger: log });
  const other = scope.track(
    new WsClient({ url: server.url, logger: capturingLogger(), callTimeoutMs: 5000 }),
  );
  await other.ready();
  return { server, log, rpcLog, calls, other };
}

/** A raw frame to send: a value to msgpack-encode, or exact bytes, or a text frame. */
type Outgoing = { value: unknown } | { bytes: Uint8Array } | { text: string };

function sendOutgoing(raw: RawConn, out: Outgoing): void {
  if ('value' in out) raw.send(out.value);
  else if ('bytes' in out) raw.sendBytes(out.bytes);
  else raw.sendText(out.text);
}

/** [name, frame, expected error id, expected code, message pattern] */
type BadCase = [string, Outgoing, number, string, RegExp];

const long = 'm'.repeat(257);

const BAD_FRAMES: BadCase[] = [
  ['a text frame', { text: '[2,1,"test.echo",null]' }, 0, 'BAD_FRAME', /text frames/],
  ['undecodable bytes', { bytes: Uint8Array.of(0xd9) }, 0, 'BAD_FRAME', /cannot decode/],
  [
    'truncated msgpack',
    { bytes: encode([REQUEST, 3, 'test.echo', 'abc']).subarray(0, 6) },
    0,
    'BAD_FRAME',
    /cannot decode/,
  ],
  [
    'trailing bytes',
    { bytes: Buffer.concat([encode([REQUEST, 3, 'test.echo', 1]), Buffer.from([1])]) },
    0,
    'BAD_FRAME',
    /cannot decode/,
  ],
  ['an empty binary frame', { bytes: new Uint8Array(0) }, 0, 'BAD_FRAME', /./],
  [
    'a map',
    { value: { type: REQUEST, id: 5, method: 'test.echo' } },
    0,
    'BAD_FRAME',
    /4-element array/,
  ],
  ['a string', { value: 'test.echo' }, 0, 'BAD_FRAME', /4-element array/],
  ['nil', { value: null }, 0, 'BAD_FRAME', /4-element array/],
  ['an empty array', { value: [] }, 0, 'BAD_FRAME', /4-element array/],
  [
    'a 3-element request',
    { value: [REQUEST, 11, 'test.echo'] },
    11,
    'BAD_FRAME',
    /4-element array/,
  ],
  [
    'a 5-element request',
    { value: [REQUEST, 12, 'test.echo', 1, 2] },
    12,
    'BAD_FRAME',
    /4-element array/,
  ],
  [
    'another frame type',
    { value: [9, 13, 'test.echo', null] },
    13,
    'BAD_FRAME',
    /unexpected frame type 9/,
  ],
  ['a reply frame', { value: [REPLY, 14, 'x', null] }, 14, 'BAD_FRAME', /unexpected frame type 3/],
  [
    'a hello after the hello',
    { value: [0, 1, null, null] },
    1,
    'BAD_FRAME',
    /unexpected frame type 0/,
  ],
  ['id 0', { value: [REQUEST, 0, 'test.echo', null] }, 0, 'BAD_FRAME', /request id/],
  ['id -1', { value: [REQUEST, -1, 'test.echo', null] }, 0, 'BAD_FRAME', /request id/],
  ['id 1.5', { value: [REQUEST, 1.5, 'test.echo', null] }, 0, 'BAD_FRAME', /request id/],
  ['id "7"', { value: [REQUEST, '7', 'test.echo', null] }, 0, 'BAD_FRAME', /request id/],
  ['id NaN', { value: [REQUEST, Number.NaN, 'test.echo', null] }, 0, 'BAD_FRAME', /request id/],
  ['id 2^53', { value: [REQUEST, 2 ** 53, 'test.echo', null] }, 0, 'BAD_FRAME', /request id/],
  ['id null', { value: [REQUEST, null, 'test.echo', null] }, 0, 'BAD_FRAME', /request id/],
  ['a method of 257 characters', { value: [REQUEST, 21, long, null] }, 21, 'BAD_FRAME', /method/],
  ['an empty method', { value: [REQUEST, 22, '', null] }, 22, 'BAD_FRAME', /method/],
  ['a numeric method', { value: [REQUEST, 23, 42, null] }, 23, 'BAD_FRAME', /method/],
  [
    'a method of 256 characters',
    { value: [REQUEST, 24, long.slice(1), null] },
    24,
    'UNKNOWN_METHOD',
    /unknown method/,
  ],
  [
    'an unknown method',
    { value: [REQUEST, 31, 'test.nope', null] },
    31,
    'UNKNOWN_METHOD',
    /test\.nope/,
  ],
  [
    'an unknown service',
    { value: [REQUEST, 32, 'nope.echo', null] },
    32,
    'UNKNOWN_METHOD',
    /nope\.echo/,
  ],
  [
    'a method without a service',
    { value: [REQUEST, 33, 'echo', null] },
    33,
    'UNKNOWN_METHOD',
    /echo/,
  ],
  [
    'a prototype method name',
    { value: [REQUEST, 34, 'test.constructor', null] },
    34,
    'UNKNOWN_METHOD',
    /constructor/,
  ],
  [
    'a __proto__ method name',
    { value: [REQUEST, 35, 'test.__proto__', null] },
    35,
    'UNKNOWN_METHOD',
    /__proto__/,
  ],
  [
    'a __proto__ service name',
    { value: [REQUEST, 36, '__proto__.toString', null] },
    36,
    'UNKNOWN_METHOD',
    /__proto__/,
  ],
  [
    'arguments failing a validated guard',
    { value: [REQUEST, 41, 'test.checked', { n: 'one' }] },
    41,
    'BAD_ARGUMENTS',
    /expected shape/,
  ],
  [
    'missing arguments for a validated guard',
    { value: [REQUEST, 42, 'test.checked', null] },
    42,
    'BAD_ARGUMENTS',
    /expected shape/,
  ],
  [
    'a handler that throws',
    { value: [REQUEST, 51, 'test.throw', null] },
    51,
    'HANDLER_ERROR',
    /handler exploded/,
  ],
  [
    'a handler that rejects',
    { value: [REQUEST, 52, 'async.rejects', null] },
    52,
    'HANDLER_ERROR',
    /async failure/,
  ],
  [
    'an async BadArgumentsError',
    { value: [REQUEST, 53, 'async.badArgs', null] },
    53,
    'BAD_ARGUMENTS',
    /async guard said no/,
  ],
  [
    'an unencodable reply',
    { value: [REQUEST, 61, 'test.unencodable', null] },
    61,
    'HANDLER_ERROR',
    /cannot be encoded/,
  ],
];

describe('bad input over an authenticated connection', () => {
  it('answers every bad frame with the right ERROR frame, keeps the connection, and serves others throughout', async () => {
    const { server, log, other } = await start();
    const raw = await RawConn.authenticated(scope, server.url);
    let validId = 1000;

    for (const [name, out, id, code, message] of BAD_FRAMES) {
      sendOutgoing(raw, out);
      const frame = await raw.next();
      expect(frame, name).toEqual([ERROR, id, code, expect.stringMatching(message)]);

      // The same connection still works…
      validId++;
      expect(await raw.request(validId, 'test.echo', { after: name }), name).toEqual([
        REPLY,
        validId,
        { after: name },
      ]);
      // …and so does another client.
      await expect(other.call('test.echo', name)).resolves.toEqual({ ok: true, reply: name });
    }

    expect(raw.isOpen).toBe(true);
    expect(server.connectionCount).toBe(2);
    // One line for the first bad frame of the connection, not one per frame.
    expect(log.count(BAD_FRAME_LINE)).toBe(1);
    expect(log.lines.find((l) => l.message === BAD_FRAME_LINE)?.fields).toMatchObject({
      reason: 'text frames are not accepted',
    });
    // The unencodable reply is logged by the transport as well.
    expect(log.count('rpc: reply cannot be encoded')).toBe(1);
    expect(log.lines).toHaveLength(2);

    // On close, one summary line for a connection that sent more than one bad frame.
    await raw.terminate();
    await waitFor(() => server.connectionCount === 1, 'the raw connection to be released');
    expect(log.count(CLOSED_AFTER_BAD_FRAMES_LINE)).toBe(1);
    expect(log.lines.find((l) => l.message === CLOSED_AFTER_BAD_FRAMES_LINE)?.fields).toMatchObject(
      {
        badFrames: BAD_FRAMES.filter(([, , , code]) => code === 'BAD_FRAME').length,
      },
    );
  });

  it('logs the first bad frame of each connection once, however many follow', async () => {
    const { server, log } = await start();
    const a = await RawConn.authenticated(scope, server.url);
    const b = await RawConn.authenticated(scope, server.url);
    for (let i = 0; i < 50; i++) {
      a.sendBytes(Uint8Array.of(0xd9));
      b.send([REQUEST, i + 1, '', null]);
    }
    a.send([REQUEST, 99, 'test.echo', 'a done']);
    b.send([REQUEST, 99, 'test.echo', 'b done']);
    await waitFor(() => a.received === 52 && b.received === 52, 'all 51 answers on both sockets');
    expect(log.count(BAD_FRAME_LINE)).toBe(2);
    expect(log.lines).toHaveLength(2);
    const frames: unknown[] = [];
    for (let i = 0; i < 51; i++) frames.push(await b.next());
    expect(frames.slice(0, 50).every((f) => Array.isArray(f) && f[2] === 'BAD_FRAME')).toBe(true);
    expect(frames[50]).toEqual([REPLY, 99, 'b done']);
  });

  it('pipelined bad and good frames each get exactly one answer, in order', async () => {
    const { server } = await start();
    const raw = await RawConn.authenticated(scope, server.url);
    const expected: unknown[] = [];
    for (let i = 1; i <= 200; i++) {
      if (i % 5 === 0) {
        raw.sendBytes(Uint8Array.of(0xd9, 0x7f));
        expected.push([ERROR, 0, 'BAD_FRAME', expect.any(String)]);
      } else if (i % 5 === 1) {
        raw.send([REQUEST, i, 'test.nope', i]);
        expected.push([ERROR, i, 'UNKNOWN_METHOD', expect.any(String)]);
      } else if (i % 5 === 2) {
        raw.send([REQUEST, i, 'test.checked', { n: i }]);
        expected.push([REPLY, i, { doubled: 2 * i }]);
      } else {
        raw.send([REQUEST, i, 'test.echo', [i, String(i)]]);
        expected.push([REPLY, i, [i, String(i)]]);
      }
    }
    const got: unknown[] = [];
    for (let i = 0; i < expected.length; i++) got.push(await raw.next());
    expect(got).toEqual(expected);
  });

  it('a __proto__ key in the arguments cannot smuggle properties past a validated guard or pollute prototypes', async () => {
    const { server, calls } = await start();
    const raw = await RawConn.authenticated(scope, server.url);
    // An own "__proto__" property, as JSON.parse makes it; msgpack carries it as a plain key.
    const args = JSON.parse('{"__proto__": {"n": 5, "polluted": true}}') as unknown;
    const bytes = encode([REQUEST, 1, 'test.checked', args]);
    expect(bytes.includes(Buffer.from('__proto__'))).toBe(true);
    raw.sendBytes(bytes);
    expect(await raw.next()).toEqual([ERROR, 1, 'BAD_ARGUMENTS', expect.any(String)]);
    expect(calls.calls.get('checked')).toBe(1);

    raw.send([REQUEST, 2, 'test.echo', args]);
    const echoed = (await raw.next()) as unknown[];
    expect(echoed[0]).toBe(REPLY);
    expect(Object.getPrototypeOf(echoed[2])).toBe(Object.prototype);
    expect((echoed[2] as { n?: unknown }).n).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect((Object.prototype as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('handler errors arrive at a WsClient as { ok: false } with the right code', async () => {
    const { other } = await start();
    await expect(other.call('test.nope', null)).resolves.toMatchObject({
      ok: false,
      code: 'UNKNOWN_METHOD',
    });
    await expect(other.call('test.checked', { n: 'x' })).resolves.toMatchObject({
      ok: false,
      code: 'BAD_ARGUMENTS',
    });
    await expect(other.call('test.checked', { n: 4 })).resolves.toEqual({
      ok: true,
      reply: { doubled: 8 },
    });
    await expect(other.call('test.throw', null)).resolves.toEqual({
      ok: false,
      code: 'HANDLER_ERROR',
      message: 'handler exploded',
    });
    await expect(other.call('test.unencodable', null)).resolves.toMatchObject({
      ok: false,
      code: 'HANDLER_ERROR',
    });
    await expect(other.call('async.echo', [1, 2])).resolves.toEqual({ ok: true, reply: [1, 2] });
    expect(other.state).toBe('open');
  });

  // BUG (src/codec.ts): decode() accepts msgpackr's structured-clone reference extensions
  // (0x69 "id" / 0x70 "pointer") from the wire, so a peer can send cyclic arguments, or a
  // ~300-byte DAG that a handler re-encoding or walking its arguments expands exponentially
  // (2^levels). A 40-level DAG sent to an echo-style handler blocks the server's event loop
  // indefinitely (measured: 26 levels = 508 bytes in -> 11 s of CPU and 1.8 GB RSS on encode).
  // Fix: `new Packr({ useRecords: false, structuredClone: false, ... })` in codec.ts, which makes
  // msgpackr throw "Structured clone extension is disabled" on these extensions; the server
  // then answers BAD_FRAME (id 0). Remove `.fails` once fixed.
  it('refuses a shared DAG built from msgpack reference extensions as BAD_FRAME', async () => {
    const { server, calls } = await start();
    const raw = await RawConn.authenticated(scope, server.url);
    // [2, 1, 'test.echo', <16-level DAG>]: 316 bytes that re-encode to ~512 KiB.
    const request = requestWithDag(1, 16);
    expect(request.length).toBeLessThan(400);
    raw.sendBytes(request);
    expect(summary(await raw.next())).toEqual({ type: ERROR, id: 0, code: 'BAD_FRAME' });
    expect(calls.calls.get('echo') ?? 0).toBe(0);
  });

  // Same bug: cyclic arguments reach the handler (here the echo then fails to encode its reply).
  it('refuses cyclic arguments built from msgpack reference extensions as BAD_FRAME', async () => {
    const { server, calls } = await start();
    const raw = await RawConn.authenticated(scope, server.url);
    raw.sendBytes(requestWithCycle(2));
    expect(summary(await raw.next())).toEqual({ type: ERROR, id: 0, code: 'BAD_FRAME' });
    expect(calls.calls.get('echo') ?? 0).toBe(0);
  });
});

/** The head of an answer frame, without its (possibly huge) payload. */
function summary(frame: unknown): { type: unknown; id: unknown; code: unknown } {
  const [type, id, code] = frame as unknown[];
  return { type, id, code: typeof code === 'string' ? code : typeof code };
}

/** Big-endian uint32 bytes. */
function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/** A msgpack request whose args is [d0, d1, …, dL] with d0 = [1, 1] and d(i) = [d(i-1), d(i-1)] by reference. */
function requestWithDag(id: number, levels: number): Buffer {
  const head = encode([REQUEST, id, 'test.echo']);
  const bytes: number[] = [0x94, ...head.subarray(1)]; // same elements as a 4-element array
  bytes.push(0xdc, ...u32(levels + 1).slice(2)); // array16 of levels + 1
  bytes.push(0xd6, 0x69, ...u32(0), 0x92, 0x01, 0x01);
  for (let i = 1; i <= levels; i++) {
    bytes.push(0xd6, 0x69, ...u32(i), 0x92, 0xd6, 0x70, ...u32(i - 1), 0xd6, 0x70, ...u32(i - 1));
  }
  return Buffer.from(bytes);
}

function requestWithCycle(id: number): Buffer {
  const head = encode([REQUEST, id, 'test.echo']);
  return Buffer.from([
    0x94,
    ...head.subarray(1),
    0xd6,
    0x69,
    ...u32(0),
    0x91,
    0xd6,
    0x70,
    ...u32(0),
  ]);
}
