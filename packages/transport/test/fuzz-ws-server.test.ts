import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode, decode, encode, RpcServer, WsClient, type WsServer } from '../src/index.js';
import {
  capturingLogger,
  countingLogger,
  ERROR,
  HELLO,
  isCheckedArgs,
  listen,
  probe,
  RawConn,
  REPLY,
  REQUEST,
  Scope,
  testService,
  WELCOME,
  waitFor,
} from './support/ws-helpers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Fixed by default so runs are reproducible; FUZZ_SEED=<n> explores other inputs. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_611);
const TOKEN = 'fuzz-secret-token';
const MiB = 1024 * 1024;

const scope = new Scope();
afterEach(() => scope.closeAll());

// ---------------------------------------------------------------------------------------------
// What to send

/** One frame: exact bytes (binary) or a text frame. */
type Outgoing = { readonly bytes: Uint8Array } | { readonly text: string };

function tryEncode(value: unknown): Buffer | undefined {
  try {
    return encode(value);
  } catch {
    return undefined;
  }
}

/** The first of `values` that encodes (the last one must). */
function encodeFirst(...values: unknown[]): Buffer {
  for (const value of values) {
    const bytes = tryEncode(value);
    if (bytes !== undefined) return bytes;
  }
  throw new Error('nothing encodes');
}

const METHODS = [
  'fuzz.echo',
  'fuzz.echo',
  'fuzz.checked',
  'fuzz.throw',
  'fuzz.unencodable',
  'fuzz.nope',
  'nope.echo',
  'echo',
  '',
  '.',
  'fuzz.',
  '.echo',
  '__proto__.echo',
  'fuzz.__proto__',
  'fuzz.constructor',
  'fuzz.hasOwnProperty',
  'constructor.name',
  'fuzz.echo\u0000',
  'FUZZ.ECHO',
  'x'.repeat(256),
  'x'.repeat(257),
];

const HUGE_NUMBERS = [
  0,
  -0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 31,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 64,
  -(2 ** 63),
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
  9007199254740993n,
  -(2n ** 63n),
  2n ** 64n - 1n,
];

const anything = fc.anything({
  maxDepth: 4,
  maxKeys: 6,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
  stringUnit: 'binary',
});

/** Objects with own "__proto__" / "constructor" / "prototype" keys, as JSON.parse makes them. */
const protoKeyed = fc
  .record({
    inner: fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
    key: fc.constantFrom('__proto__', 'constructor', 'prototype', '__defineGetter__', 'n'),
    depth: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ inner, key, depth }) => {
    let json = JSON.stringify({ n: inner, polluted: true });
    for (let i = 0; i < depth; i++) json = `{"${key}": ${json}, "x": [${json}]}`;
    return JSON.parse(`{"${key}": ${json}}`) as unknown;
  });

const deepNest = fc.integer({ min: 1, max: 2000 }).map((depth) => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { d: value };
  return value;
});

const argsArb = fc.oneof(
  { weight: 4, arbitrary: anything },
  { weight: 1, arbitrary: protoKeyed },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE_NUMBERS) },
  { weight: 1, arbitrary: deepNest },
  {
    weight: 1,
    arbitrary: fc.record({ n: fc.oneof(fc.double(), fc.constantFrom(...HUGE_NUMBERS)) }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
);

const idArb = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE_NUMBERS) },
  { weight: 1, arbitrary: anything },
);

const methodArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...METHODS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 1, arbitrary: anything },
);

const typeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant(REQUEST) },
  { weight: 1, arbitrary: fc.integer({ min: -3, max: 8 }) },
  { weight: 1, arbitrary: anything },
);

/** Arrays shaped like requests (sometimes with the wrong length). */
const requestShaped = fc
  .tuple(typeArb, idArb, methodArb, argsArb, fc.integer({ min: 0, max: 9 }))
  .map(([type, id, method, args, shape]): Outgoing => {
    const frame: unknown[] =
      shape === 0
        ? [type, id, method]
        : shape === 1
          ? [type, id, method, args, args]
          : [type, id, method, args];
    return { bytes: encodeFirst(frame, [type, id, method, null], [REQUEST, 1, 'fuzz.echo', null]) };
  });

/** Valid requests with one byte changed, or cut short. */
const mutated = fc
  .tuple(
    fc.integer({ min: 1, max: 1000 }),
    fc.constantFrom(...METHODS),
    argsArb,
    fc.nat(),
    fc.nat(255),
    fc.boolean(),
  )
  .map(([id, method, args, at, byte, truncate]): Outgoing => {
    const bytes = Buffer.from(
      tryEncode([REQUEST, id, method, args]) ?? encode([REQUEST, id, method, null]),
    );
    const i = at % bytes.length;
    if (truncate) return { bytes: bytes.subarray(0, i) };
    bytes[i] = byte;
    return { bytes };
  });

/** Hand-written msgpack: 64-bit integers, NaN floats, ext types, oversized length headers. */
const rawMsgpack = fc
  .tuple(
    fc.integer({ min: 1, max: 100 }),
    fc.constantFrom(
      [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // uint64 max
      [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], // int64 min
      [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1], // NaN with payload
      [0xca, 0x7f, 0x80, 0, 0], // float32 Infinity
      [0xdd, 0xff, 0xff, 0xff, 0xff], // array32 claiming 4 G elements
      [0xdf, 0xff, 0xff, 0xff, 0xff], // map32 claiming 4 G entries
      [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61], // str32 claiming 4 GiB
      [0xc6, 0x7f, 0xff, 0xff, 0xff], // bin32 claiming 2 GiB
      [0xc9, 0x00, 0x00, 0x00, 0x01, 0x42, 0x07], // ext 0x42 (BigInt)
      [0xd4, 0x65, 0x00], // ext 0x65 (Error) with no payload
      [0xc7, 0x00, 0x78], // ext 0x78 (RegExp)
      [0xd6, 0xff, 0xff, 0xff, 0xff, 0xff], // timestamp ext
      [0xd4, 0x72, 0x40], // record definition ext
      [0xd4, 0x73, 0x90], // Set ext
      [0xd6, 0x70, 0, 0, 0, 9], // pointer to an unknown reference
      [0xc1], // never used
      [0x82, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa1, 0x6e, 0x05, 0xa1, 0x6e, 0x07], // {__proto__: {n: 5}, n: 7}
    ),
  )
  .chain(([id, value]) =>
    fc.constantFrom<Outgoing>(
      // as the args of an echo, as the id, as the method, as the whole frame
      { bytes: Buffer.from([0x94, REQUEST, id, ...encode('fuzz.echo'), ...value]) },
      { bytes: Buffer.from([0x94, REQUEST, ...value, ...encode('fuzz.echo'), 0xc0]) },
      { bytes: Buffer.from([0x94, REQUEST, id, ...value, 0xc0]) },
      { bytes: Buffer.from([0x94, REQUEST, id, ...encode('fuzz.checked'), ...value]) },
      { bytes: Buffer.from(value) },
    ),
  );

const frameArb: fc.Arbitrary<Outgoing> = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): Outgoing => ({ bytes })) },
  {
    weight: 2,
    arbitrary: anything.map(
      (value): Outgoing => ({ bytes: tryEncode(value) ?? Uint8Array.of(0xd9) }),
    ),
  },
  { weight: 12, arbitrary: requestShaped },
  { weight: 2, arbitrary: mutated },
  { weight: 2, arbitrary: rawMsgpack },
  { weight: 1, arbitrary: fc.string({ maxLength: 64 }).map((text): Outgoing => ({ text })) },
  { weight: 1, arbitrary: fc.constant<Outgoing>({ bytes: encode([HELLO, 1, TOKEN]) }) },
);

const authenticatedFrameArb = frameArb;

// ---------------------------------------------------------------------------------------------
// What must come back: an oracle that follows the protocol's rules (src/ws/frames.ts)

const FUZZ_METHODS = new Set(['echo', 'throw', 'checked', 'unencodable']);
const ERROR_CODES = new Set([
  'UNKNOWN_METHOD',
  'BAD_ARGUMENTS',
  'HANDLER_ERROR',
  'REPLY_TOO_LARGE',
  'BAD_FRAME',
]);

interface Expected {
  readonly id: number;
  /** 'REPLY' or an error code. */
  readonly code: string;
  /** For echo replies: the encoding of the args as the server decoded them. */
  readonly echo?: Buffer;
}

const isRequestId = (id: unknown): id is number =>
  typeof id === 'number' && Number.isSafeInteger(id) && id > 0;

function expectedAnswer(out: Outgoing): Expected {
  if ('text' in out) return { id: 0, code: 'BAD_FRAME' };
  let frame: unknown;
  try {
    frame = decode(out.bytes);
  } catch {
    return { id: 0, code: 'BAD_FRAME' };
  }
  if (!Array.isArray(frame)) return { id: 0, code: 'BAD_FRAME' };
  const id = isRequestId(frame[1]) ? frame[1] : 0;
  const [type, , method, args] = frame as unknown[];
  if (frame.length !== 4 || type !== REQUEST || id === 0) return { id, code: 'BAD_FRAME' };
  if (typeof method !== 'string' || method.length === 0 || method.length > 256)
    return { id, code: 'BAD_FRAME' };
  const dot = method.lastIndexOf('.');
  if (dot <= 0 || method.slice(0, dot) !== 'fuzz' || !FUZZ_METHODS.has(method.slice(dot + 1))) {
    return { id, code: 'UNKNOWN_METHOD' };
  }
  switch (method.slice(dot + 1)) {
    case 'echo': {
      const echo = tryEncode(args);
      return echo === undefined ? { id, code: 'HANDLER_ERROR' } : { id, code: 'REPLY', echo };
    }
    case 'checked':
      return { id, code: isCheckedArgs(args) ? 'REPLY' : 'BAD_ARGUMENTS' };
    default:
      return { id, code: 'HANDLER_ERROR' };
  }
}

/** A description of what went wrong, or undefined when `answer` is what `out` should get. */
function check(out: Outgoing, answer: unknown): string | undefined {
  const expected = expectedAnswer(out);
  if (!Array.isArray(answer)) return 'answer is not an array';
  const [type, id] = answer as unknown[];
  if (id !== expected.id) return `answer id ${String(id)}, expected ${expected.id}`;
  if (type === REPLY) {
    if (answer.length !== 3) return 'REPLY frame of the wrong length';
    if (expected.code !== 'REPLY') return `got a REPLY, expected ${expected.code}`;
    if (expected.echo !== undefined && !encode(answer[2]).equals(expected.echo))
      return 'echo differs';
    return undefined;
  }
  if (type === ERROR) {
    const [, , code, message] = answer as unknown[];
    if (answer.length !== 4 || typeof message !== 'string') return 'malformed ERROR frame';
    if (typeof code !== 'string' || !ERROR_CODES.has(code))
      return `unknown error code ${String(code)}`;
    if (code !== expected.code) return `got ${code} (${message}), expected ${expected.code}`;
    return undefined;
  }
  return `unexpected frame type ${String(type)}`;
}

function describeOutgoing(out: Outgoing): string {
  return 'text' in out
    ? `text ${JSON.stringify(out.text)}`
    : `bytes ${Buffer.from(out.bytes).toString('hex')}`;
}

// ---------------------------------------------------------------------------------------------

describe('fuzzing WsServer', () => {
  it('survives 10,000 random frames on one authenticated connection without leaking, and keeps serving', async () => {
    const wsLog = countingLogger();
    const rpcServer = new RpcServer({ logger: countingLogger() });
    const { never: _never, ...methods } = testService(probe());
    rpcServer.addService('fuzz', methods);
    const server: WsServer = await listen(scope, { rpcServer, logger: wsLog, authToken: TOKEN });
    const other = scope.track(
      new WsClient({
        url: server.url,
        authToken: TOKEN,
        logger: capturingLogger(),
        callTimeoutMs: 5000,
      }),
    );
    await other.ready();
    const raw = await RawConn.authenticated(scope, server.url, TOKEN);

    let frames = 0;
    let otherCalls = 0;
    const tally = new Map<string, number>();
    const batchSize = 200;
    const runFrames = async (runs: number, seed: number): Promise<void> => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(authenticatedFrameArb, { minLength: batchSize, maxLength: batchSize }),
          async (batch) => {
            // Pipeline the whole batch, then read one answer per frame, in order.
            for (const out of batch) {
              if ('text' in out) raw.sendText(out.text);
              else raw.sendBytes(out.bytes);
            }
            for (const out of batch) {
              const answer = (await raw.next()) as unknown[];
              const problem = check(out, answer);
              if (problem !== undefined) throw new Error(`${problem} for ${describeOutgoing(out)}`);
              const code = answer[0] === REPLY ? 'REPLY' : String(answer[2]);
              tally.set(code, (tally.get(code) ?? 0) + 1);
            }
            frames += batch.length;
            // Another client is served all along.
            const reply = await other.call('fuzz.echo', frames);
            if (!reply.ok || reply.reply !== frames)
              throw new Error(`other client: ${JSON.stringify(reply)}`);
            otherCalls++;
          },
        ),
        { numRuns: runs, seed, endOnFailure: true },
      );
    };
    const heapUsed = (): number => {
      for (let i = 0; i < 3; i++) gc();
      return process.memoryUsage().heapUsed;
    };

    await runFrames(2000 / batchSize, SEED); // warm-up
    const before = heapUsed();
    await runFrames(10_000 / batchSize, SEED + 1);
    const after = heapUsed();
    const growth = after - before;
    const answers = [...tally].map(([code, n]) => `${code} ${n}`).join(', ');
    console.log(
      `fuzz-ws-server: seed ${SEED}, ${frames} frames (${answers}); heapUsed ${(before / MiB).toFixed(2)} MiB -> ${(after / MiB).toFixed(2)} MiB (growth ${(growth / MiB).toFixed(2)} MiB)`,
    );

    expect(frames).toBe(12_000);
    // Every kind of answer was exercised.
    for (const code of ['REPLY', 'BAD_FRAME', 'UNKNOWN_METHOD', 'BAD_ARGUMENTS', 'HANDLER_ERROR']) {
      expect(tally.get(code) ?? 0, code).toBeGreaterThan(50);
    }
    expect(otherCalls).toBe(60);
    // The connection is still usable, and only the first bad frame was logged.
    expect(raw.isOpen).toBe(true);
    expect(await raw.request(1, 'fuzz.echo', { still: 'here' })).toEqual([
      REPLY,
      1,
      { still: 'here' },
    ]);
    await expect(other.call('fuzz.echo', 'done')).resolves.toEqual({ ok: true, reply: 'done' });
    expect(server.connectionCount).toBe(2);
    expect(wsLog.count('ws: bad frame')).toBe(1);
    // Measured 0.2–0.5 MiB over 10,000 frames (seeds 1–6 and the default); 2 MiB catches a leak of
    // about 200 bytes per frame.
    expect(growth).toBeLessThan(2 * MiB);
  }, 15_000);

  it('closes every socket whose first frame is not a good hello, and keeps serving', async () => {
    const wsLog = countingLogger();
    const rpcServer = new RpcServer({ logger: countingLogger() }).addService('fuzz', {
      echo: (args: unknown) => args,
    });
    const server = await listen(scope, {
      rpcServer,
      logger: wsLog,
      authToken: TOKEN,
      maxLogLinesPerSecond: Number.POSITIVE_INFINITY,
    });

    const helloShaped = fc
      .tuple(
        fc.oneof(fc.constant(HELLO), anything),
        fc.oneof(fc.constant(1), anything),
        fc.oneof(fc.string({ maxLength: 40 }), anything),
        fc.boolean(),
      )
      .map(([type, version, token, extra]): Outgoing => {
        const frame = extra ? [type, version, token, 0] : [type, version, token];
        return { bytes: tryEncode(frame) ?? Uint8Array.of(0xd9) };
      });
    const firstFrameArb = fc.oneof(frameArb, helloShaped, helloShaped);

    let refused = 0;
    let welcomed = 0;
    let authFailures = 0;
    await fc.assert(
      fc.asyncProperty(firstFrameArb, async (out) => {
        const raw = await RawConn.open(scope, server.url);
        if ('text' in out) raw.sendText(out.text);
        else raw.sendBytes(out.bytes);
        // Exactly the hello's rules: [HELLO, 1, TOKEN] (with an optional 4th element, the
        // client's frame limit) is welcomed, [HELLO, 1, <other>] is an auth failure, anything
        // else a protocol error.
        let expected: number = CloseCode.PROTOCOL;
        if ('bytes' in out) {
          try {
            const frame = decode(out.bytes);
            if (
              Array.isArray(frame) &&
              (frame.length === 3 || frame.length === 4) &&
              frame[0] === HELLO &&
              frame[1] === 1
            ) {
              expected = frame[2] === TOKEN ? 0 : CloseCode.AUTH_FAILED;
            }
          } catch {}
        }
        if (expected === 0) {
          const welcome = await raw.next(3000);
          if (!Array.isArray(welcome) || welcome[0] !== WELCOME || welcome[1] !== 1)
            throw new Error('expected a welcome');
          await raw.terminate();
          welcomed++;
          return;
        }
        const { code } = await raw.waitClosed(3000);
        if (code !== expected)
          throw new Error(
            `closed with ${code}, expected ${expected}, for ${describeOutgoing(out)}`,
          );
        if (raw.received !== 0) throw new Error(`got ${raw.received} frames before auth`);
        refused++;
        if (code === CloseCode.AUTH_FAILED) authFailures++;
      }),
      { numRuns: 300, seed: SEED, endOnFailure: true },
    );

    expect(refused + welcomed).toBe(300);
    expect(refused).toBeGreaterThan(250);
    expect(authFailures).toBeGreaterThan(10);
    expect(wsLog.count('ws auth failed; closing connection')).toBe(authFailures);
    await waitFor(() => server.connectionCount === 0, 'every refused connection to be released');
    const good = scope.track(
      new WsClient({
        url: server.url,
        authToken: TOKEN,
        logger: capturingLogger(),
        callTimeoutMs: 5000,
      }),
    );
    await expect(good.call('fuzz.echo', 'alive')).resolves.toEqual({ ok: true, reply: 'alive' });
  }, 15_000);
});
