/**
 * Bad input on a real `listenKvServer`, through a hand-written WebSocket client: wrong shapes,
 * frames past the frame limit, bad handshakes and plain garbage. Each gets a typed error, a
 * refusal or a closed connection, and a normal clerk still works after it. Then the limits as
 * a clerk sees them.
 */
import { encode, SeededRandom, silentLogger } from '@flotilla/transport';
import { describe, expect, test } from 'vitest';
import {
  type Clerk,
  connectClerk,
  frameBytesFor,
  KeyTooLargeError,
  type KvServerHandle,
  listenKvServer,
  ValueTooLargeError,
} from '../src/index.js';
import { BAD_CASES, UNKNOWN_METHODS } from './support/bad-input.js';
import { cleanups } from './support/cleanups.js';
import { sleep, within } from './support/procs.js';
import {
  connectTcp,
  ERROR,
  OPCODE,
  RawWs,
  REPLY,
  REQUEST,
  readResponse,
} from './support/raw-ws.js';
import { FUZZ_SEED } from './support/seed.js';

// ---------------------------------------------------------------------------------------------
// The server on a WebSocket port

const TOKEN = 'wire-test-token';
const LIMITS = { maxKeyBytes: 16, maxValueBytes: 64 };

async function startServer(options: Partial<Parameters<typeof listenKvServer>[0]> = {}) {
  const handle = await listenKvServer({
    ...LIMITS,
    authToken: TOKEN,
    helloTimeoutMs: 300,
    logger: silentLogger,
    ...options,
  });
  cleanups.push(() => handle.close());
  return handle;
}

function clerkOf(url: string, options: Parameters<typeof connectClerk>[1] = {}): Clerk {
  const clerk = connectClerk(url, {
    authToken: TOKEN,
    callTimeoutMs: 1000,
    logger: silentLogger,
    ...options,
  });
  cleanups.push(() => clerk.close());
  return clerk;
}

async function rawHello(url: string): Promise<RawWs> {
  const raw = await RawWs.hello(url, TOKEN);
  cleanups.push(() => raw.destroy());
  return raw;
}

async function rawConnect(url: string): Promise<RawWs> {
  const raw = await RawWs.connect(url);
  cleanups.push(() => raw.destroy());
  return raw;
}

/** A fresh clerk can still use the server, and nothing else changed. */
async function expectServing(handle: KvServerHandle): Promise<void> {
  const before = handle.server.stats;
  const clerk = clerkOf(handle.url);
  const key = `probe${before.clients}`;
  expect(await within(clerk.append(key, 'ok'), 3000, 'a clerk after bad input')).toBe('');
  expect(await clerk.get(key)).toBe('ok');
  expect(handle.server.stats.clients).toBe(before.clients + 1);
  await clerk.close();
}

const UPGRADE = ['Host: x', 'Upgrade: websocket', 'Connection: Upgrade'];

/** A `GET /` request head with these header lines. */
function http(headers: string[]): Buffer {
  return Buffer.from(`GET / HTTP/1.1\r\n${headers.map((line) => `${line}\r\n`).join('')}\r\n`);
}

describe('listenKvServer: bad input on the socket', () => {
  test('every wrong shape of arguments gets an ERROR frame; the connection stays up', async () => {
    const handle = await startServer();
    const raw = await rawHello(handle.url);
    let id = 0;
    for (const [method, what, args] of BAD_CASES) {
      id++;
      const frame = await raw.request(id, `KVServer.${method}`, args);
      expect(frame, `${method} with ${what}`).toEqual([
        ERROR,
        id,
        'BAD_ARGUMENTS',
        expect.any(String),
      ]);
    }
    for (const method of UNKNOWN_METHODS) {
      id++;
      expect(await raw.request(id, method, { key: 'k' })).toEqual([
        ERROR,
        id,
        'UNKNOWN_METHOD',
        expect.stringContaining('unknown method'),
      ]);
    }
    // The same connection still serves well-formed calls.
    expect(
      await raw.request(++id, 'KVServer.Append', { key: 'k', value: 'v', clientId: 9, seq: 1 }),
    ).toEqual([REPLY, id, { value: '' }]);
    expect(await raw.request(++id, 'KVServer.Get', { key: 'k' })).toEqual([
      REPLY,
      id,
      { value: 'v' },
    ]);
    expect(handle.server.stats).toEqual({ keys: 1, clients: 1, cachedReplies: 1 });
    await expectServing(handle);
  });

  test('garbage frames after the hello: BAD_FRAME, and the connection keeps serving', async () => {
    const handle = await startServer();
    const raw = await rawHello(handle.url);
    const random = new SeededRandom(FUZZ_SEED);
    const garbage: Array<[string, () => void]> = [
      ['a text frame', () => raw.sendText('[2,1,"KVServer.Get",{"key":"k"}]')],
      ['an undecodable byte', () => raw.sendBytes(Uint8Array.of(0xc1))],
      [
        'a truncated request',
        () => raw.sendBytes(encode([REQUEST, 1, 'KVServer.Get', { key: 'k' }]).subarray(0, 9)),
      ],
      ['an empty frame', () => raw.sendBytes(new Uint8Array(0))],
      ['a map', () => raw.send({ key: 'k' })],
      ['a request without args', () => raw.send([REQUEST, 1, 'KVServer.Get'])],
      ['a request id of 0', () => raw.send([REQUEST, 0, 'KVServer.Get', { key: 'k' }])],
      ['a numeric method', () => raw.send([REQUEST, 1, 7, { key: 'k' }])],
      ['a reply frame', () => raw.send([REPLY, 1, { value: 'x' }])],
      ...Array.from({ length: 20 }, (_, i): [string, () => void] => [
        `random bytes #${i}`,
        () => raw.sendBytes(Buffer.concat([Uint8Array.of(0xc1), random.bytes(1 + random.int(64))])),
      ]),
    ];
    for (const [what, send] of garbage) {
      send();
      const frame = (await raw.next()) as unknown[];
      expect(frame.slice(0, 1), what).toEqual([ERROR]);
      expect(frame[2], what).toBe('BAD_FRAME');
      expect(raw.isOpen, what).toBe(true);
    }
    expect(await raw.request(50, 'KVServer.Get', { key: 'k' })).toEqual([REPLY, 50, { value: '' }]);
    expect(handle.server.stats).toEqual({ keys: 0, clients: 0, cachedReplies: 0 });
    await expectServing(handle);
  });

  test('bad handshakes and broken framing close the connection, not the server', async () => {
    const handle = await startServer();
    const cases: Array<[string, (raw: RawWs) => void, number]> = [
      ['garbage instead of a hello', (raw) => raw.sendBytes(Uint8Array.of(1, 2, 3)), 4400],
      [
        'a request before the hello',
        (raw) => raw.send([REQUEST, 1, 'KVServer.Get', { key: 'k' }]),
        4400,
      ],
      ['a hello of another version', (raw) => raw.send([0, 2, TOKEN]), 4400],
      ['a text hello', (raw) => raw.sendText(JSON.stringify([0, 1, TOKEN])), 4400],
      ['a wrong token', (raw) => raw.send([0, 1, 'not-the-token']), 4401],
      ['no token', (raw) => raw.send([0, 1, null]), 4401],
      ['a numeric token', (raw) => raw.send([0, 1, 12345]), 4401],
      ['nothing at all', () => {}, 4408],
      [
        'reserved bits set',
        (raw) => raw.sendFrame(OPCODE.BINARY, encode([0, 1, TOKEN]), { rsv: 7 }),
        1002,
      ],
      [
        'an unmasked frame',
        (raw) => raw.sendFrame(OPCODE.BINARY, encode([0, 1, TOKEN]), { mask: false }),
        1002,
      ],
      ['an unknown opcode', (raw) => raw.sendFrame(0x3, Uint8Array.of(1)), 1002],
    ];
    for (const [what, act, code] of cases) {
      const raw = await rawConnect(handle.url);
      act(raw);
      const closed = await raw.waitClosed(3000);
      expect(closed.code, what).toBe(code);
    }
    await expectServing(handle);
    expect(handle.server.stats.clients).toBe(1);
  });

  test('a frame past the frame limit closes that connection (1009); others are unaffected', async () => {
    const handle = await startServer();
    const limit = frameBytesFor(LIMITS);
    const bystander = await rawHello(handle.url);

    const oversized = await rawHello(handle.url);
    oversized.send([
      REQUEST,
      1,
      'KVServer.Put',
      { key: 'k', value: 'v'.repeat(limit), clientId: 1, seq: 1 },
    ]);
    expect((await oversized.waitClosed()).code).toBe(1009);

    // A header claiming 1 TiB is refused on sight, before any payload.
    const claims = await rawHello(handle.url);
    claims.sendHeaderOnly(OPCODE.BINARY, 2 ** 40);
    expect((await claims.waitClosed()).code).toBe(1009);

    // Before the hello, too.
    const early = await rawConnect(handle.url);
    early.sendHeaderOnly(OPCODE.BINARY, limit + 1);
    expect((await early.waitClosed()).code).toBe(1009);

    expect(handle.server.stats).toEqual({ keys: 0, clients: 0, cachedReplies: 0 });
    expect(await bystander.request(7, 'KVServer.Get', { key: 'k' })).toEqual([
      REPLY,
      7,
      { value: '' },
    ]);
    await expectServing(handle);
  });

  test('raw TCP garbage (no HTTP upgrade) gets an HTTP 4xx or is dropped; the server keeps serving', async () => {
    const handle = await startServer();
    const { hostname, port } = new URL(handle.url);
    const random = new SeededRandom(FUZZ_SEED + 1);
    const payloads: Array<[string, Uint8Array]> = [
      ['random bytes', random.bytes(512)],
      [
        'a msgpack request',
        encode([REQUEST, 1, 'KVServer.Put', { key: 'k', value: 'v', clientId: 1, seq: 1 }]),
      ],
      ['a plain HTTP GET', http(['Host: x'])],
      ['an upgrade without a key', http([...UPGRADE, 'Sec-WebSocket-Version: 13'])],
      [
        'an upgrade to another version',
        http([
          ...UPGRADE,
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Version: 99',
        ]),
      ],
    ];
    for (const [what, bytes] of payloads) {
      const socket = await connectTcp(hostname, Number(port));
      cleanups.push(() => void socket.destroy());
      const answer = readResponse(socket);
      socket.write(bytes);
      // Plain HTTP requests get an HTTP error; for the rest, closing is enough.
      const text = (await answer).toString('latin1');
      if (what.includes('HTTP') || what.includes('upgrade'))
        expect(text, what).toMatch(/^HTTP\/1\.1 4\d\d /);
      else expect(text, what).toMatch(/^(HTTP\/1\.1 400 |$)/);
    }
    expect(handle.server.stats).toEqual({ keys: 0, clients: 0, cachedReplies: 0 });
    await expectServing(handle);
  });
});

describe('listenKvServer: limits through a clerk', () => {
  test('keys and values past the limits: typed errors, the server unchanged, the clerk usable', async () => {
    const handle = await startServer();
    const clerk = clerkOf(handle.url);
    await clerk.put('k', 'v');
    expect(await clerk.append('k', 'w')).toBe('v');
    const before = handle.server.stats;

    const tooLongKey = await clerk.get('k'.repeat(17)).catch((err: unknown) => err);
    expect(tooLongKey).toBeInstanceOf(KeyTooLargeError);
    expect(tooLongKey).toMatchObject({ code: 'ERR_KEY_TOO_LARGE', size: 17, limit: 16 });
    await expect(clerk.put('ключ-ключ', 'v')).rejects.toMatchObject({
      code: 'ERR_KEY_TOO_LARGE',
      size: 17,
      limit: 16,
    });
    await expect(clerk.append('k'.repeat(10_000), 'v')).rejects.toBeInstanceOf(KeyTooLargeError);
    const tooLarge = await clerk.put('k', 'v'.repeat(10_000)).catch((err: unknown) => err);
    expect(tooLarge).toBeInstanceOf(ValueTooLargeError);
    expect(tooLarge).toMatchObject({ code: 'ERR_VALUE_TOO_LARGE', size: 10_000, limit: 64 });
    expect((tooLarge as Error).message).toBe(
      "value of 10000 bytes exceeds the server's limit of 64 bytes",
    );
    // 22 characters, 66 bytes.
    await expect(clerk.put('k', '€'.repeat(22))).rejects.toMatchObject({ size: 66, limit: 64 });
    // "vw" + 63: the value an Append would make is too large.
    await expect(clerk.append('k', 'x'.repeat(63))).rejects.toMatchObject({
      code: 'ERR_VALUE_TOO_LARGE',
      size: 65,
      limit: 64,
    });
    expect(handle.server.read('k')).toBe('vw');
    // (The first refused update told the server the clerk had seen its Append's reply, so the
    // server could drop the copy it kept: cachedReplies may go down, nothing else changes.)
    expect(handle.server.stats).toMatchObject({ keys: before.keys, clients: before.clients });

    // The clerk carries on (its refused sequence numbers are not held against it).
    expect(await clerk.append('k', 'x'.repeat(62))).toBe('vw');
    expect(await clerk.get('k')).toHaveLength(64);
    await expect(clerk.append('k', 'y')).rejects.toBeInstanceOf(ValueTooLargeError);
    await clerk.put('k', '');
    expect(await clerk.append('k', 'z')).toBe('');
    expect(handle.server.stats).toEqual({ keys: 1, clients: 1, cachedReplies: 1 });
  });

  // The server announces its frame limit in the handshake, so the request is refused before it
  // is sent (sent, it would close the connection with 1009 and the clerk would resend forever).
  test('a value larger than the server’s frame limit fails with ValueTooLargeError', async () => {
    const handle = await startServer();
    const clerk = clerkOf(handle.url, { callTimeoutMs: 500 });
    const huge = 'v'.repeat(frameBytesFor(LIMITS) + 1);
    const outcome = await Promise.race([
      clerk.put('k', huge).then(
        () => 'resolved',
        (err: unknown) => err,
      ),
      sleep(1500).then(() => 'still retrying after 1.5 s'),
    ]);
    await clerk.close();
    expect(outcome).toBeInstanceOf(ValueTooLargeError);
  });

  // Default limits: past the clerk's own frame limit, frameBytesFor({}), the transport refuses
  // the call locally; the clerk reports it as ValueTooLargeError.
  test('a value past the default 32 MiB limit fails with ValueTooLargeError', async () => {
    const handle = await startServer({ maxValueBytes: undefined, maxKeyBytes: undefined });
    const clerk = clerkOf(handle.url);
    const err = await clerk.put('k', 'v'.repeat(33 * 2 ** 20)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValueTooLargeError);
  });
});
