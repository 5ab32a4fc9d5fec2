import { describe, expect, it } from 'vitest';
import {
  type CallResult,
  type ClientEnd,
  CodecError,
  type RpcServer,
  validated,
} from '../../src/index.js';

/** One network under test: how to run a body against a server exposing the given services. */
export interface NetworkUnderTest {
  readonly name: string;
  run(
    setup: (server: RpcServer) => void,
    body: (env: ConformanceEnv) => Promise<void>,
  ): Promise<void>;
}

export interface ConformanceEnv {
  /** A new client end connected to the server. */
  client(): Promise<ClientEnd>;
  /** Waits on the network's own clock (virtual for SimNetwork, real for WebSocket). */
  sleep(ms: number): Promise<void>;
  /** Random integer in [0, n) from the run's source of chance. */
  randomInt(n: number): number;
  /** The server goes away for good: in-flight and later calls get no reply. */
  stopServer(): Promise<void>;
}

const isCount = (args: unknown): args is { n: number } =>
  typeof args === 'object' && args !== null && typeof (args as { n?: unknown }).n === 'number';

/** Services every conformance test uses. `env` lets handlers wait on the network's clock. */
function testServices(
  server: RpcServer,
  hooks: { sleep: (ms: number) => Promise<void>; log: number[] },
): void {
  const kept = { list: [1, 2, 3] };
  let counter = 0;
  server.addService('Echo', {
    echo: (args: unknown) => args,
    mutateArgs: (args: { list: number[] }) => {
      args.list.push(99);
      return args.list.length;
    },
    kept: () => kept,
    delayed: async (args: { id: number; ms: number }) => {
      await hooks.sleep(args.ms);
      hooks.log.push(args.id);
      return args.id;
    },
    never: () => new Promise<never>(() => {}),
    throws: () => {
      throw new Error('handler failed on purpose');
    },
    rejects: async () => {
      throw new Error('async handler failed on purpose');
    },
    unencodableReply: () => ({ fn: () => 1 }),
    bytes: (args: { size: number }) => new Uint8Array(args.size).fill(7),
  });
  server.addService('Counter', {
    add: validated(isCount, (args) => {
      counter += args.n;
      return counter;
    }),
    get: () => counter,
  });
}

function expectNoReply(result: CallResult<unknown>): void {
  expect(result.ok).toBe(false);
}

/** The RPC contract, checked the same way against every network. */
export function conformanceSuite(network: NetworkUnderTest): void {
  const log: number[] = [];
  const run = (body: (env: ConformanceEnv) => Promise<void>): Promise<void> => {
    log.length = 0;
    let sleep: (ms: number) => Promise<void> = () => Promise.resolve();
    return network.run(
      (server) => testServices(server, { sleep: (ms) => sleep(ms), log }),
      async (env) => {
        sleep = env.sleep;
        await body(env);
      },
    );
  };

  describe(`RPC contract on ${network.name}`, () => {
    describe('delivery', () => {
      it('returns the reply for values of every msgpack type', async () => {
        await run(async (env) => {
          const end = await env.client();
          const values: unknown[] = [
            0,
            -1,
            2 ** 40,
            1.5,
            'héllo ✓',
            '',
            true,
            false,
            null,
            [1, [2, [3]]],
            { nested: { deep: { list: [1, 'a', null] } } },
          ];
          for (const value of values) {
            const result = await end.call('Echo.echo', value);
            expect(result).toEqual({ ok: true, reply: value });
          }
          const bytes = await end.call<Uint8Array>('Echo.echo', new Uint8Array([0, 1, 255]));
          expect(bytes.ok && bytes.reply instanceof Uint8Array && [...bytes.reply]).toEqual([
            0, 1, 255,
          ]);
        });
      });

      it('never shares objects between caller and server', async () => {
        await run(async (env) => {
          const end = await env.client();
          const args = { list: [1, 2] };
          const result = await end.call('Echo.mutateArgs', args);
          expect(result).toEqual({ ok: true, reply: 3 });
          expect(args.list).toEqual([1, 2]);

          const first = await end.call<{ list: number[] }>('Echo.kept', null);
          if (!first.ok) throw new Error('no reply');
          first.reply.list.push(4);
          expect(await end.call('Echo.kept', null)).toEqual({
            ok: true,
            reply: { list: [1, 2, 3] },
          });
        });
      });
    });

    describe('no reply', () => {
      it('a handler that never returns ends in TIMEOUT, once', async () => {
        await run(async (env) => {
          const end = await env.client();
          let settled = 0;
          const result = await end
            .call('Echo.never', null, { timeoutMs: 200 })
            .finally(() => settled++);
          expect(result).toEqual({ ok: false, code: 'TIMEOUT' });
          await env.sleep(300);
          expect(settled).toBe(1);
        });
      });

      it('calls in flight and after the server stops get no reply', async () => {
        await run(async (env) => {
          const end = await env.client();
          expect((await end.call('Echo.echo', 1)).ok).toBe(true);
          const inFlight = end.call('Echo.never', null, { timeoutMs: 5000 });
          await env.sleep(20);
          await env.stopServer();
          expectNoReply(await inFlight);
          expectNoReply(await end.call('Echo.echo', 2, { timeoutMs: 500 }));
        });
      });
    });

    describe('ordering independence', () => {
      it('replies are matched to their calls whatever order the server finishes in', async () => {
        await run(async (env) => {
          const end = await env.client();
          const calls = Array.from({ length: 100 }, (_, id) =>
            end.call('Echo.delayed', { id, ms: env.randomInt(30) }),
          );
          const results = await Promise.all(calls);
          for (const [id, result] of results.entries())
            expect(result).toEqual({ ok: true, reply: id });
          const sorted = [...log].sort((a, b) => a - b);
          expect(log).not.toEqual(sorted);
        });
      });
    });

    describe('errors', () => {
      it('unknown services and methods get UNKNOWN_METHOD', async () => {
        await run(async (env) => {
          const end = await env.client();
          for (const method of ['Echo.nope', 'Nope.echo', 'noDot', '.echo', 'Echo.']) {
            const result = await end.call(method, 1);
            expect(result).toMatchObject({ ok: false, code: 'UNKNOWN_METHOD' });
          }
        });
      });

      it('arguments of the wrong shape get BAD_ARGUMENTS and do not reach the handler', async () => {
        await run(async (env) => {
          const end = await env.client();
          for (const bad of [null, 5, 'x', { n: '1' }, [1]]) {
            expect(await end.call('Counter.add', bad)).toMatchObject({
              ok: false,
              code: 'BAD_ARGUMENTS',
            });
          }
          expect(await end.call('Counter.get', null)).toEqual({ ok: true, reply: 0 });
        });
      });

      it('a handler that throws or rejects gets HANDLER_ERROR with its message', async () => {
        await run(async (env) => {
          const end = await env.client();
          expect(await end.call('Echo.throws', null)).toEqual({
            ok: false,
            code: 'HANDLER_ERROR',
            message: 'handler failed on purpose',
          });
          expect(await end.call('Echo.rejects', null)).toMatchObject({
            ok: false,
            code: 'HANDLER_ERROR',
          });
          expect(await end.call('Echo.unencodableReply', null)).toMatchObject({
            ok: false,
            code: 'HANDLER_ERROR',
          });
          expect((await end.call('Echo.echo', 'still serving')).ok).toBe(true);
        });
      });

      it('arguments that cannot be encoded reject with CodecError before leaving', async () => {
        await run(async (env) => {
          const end = await env.client();
          const cyclic: Record<string, unknown> = {};
          cyclic.self = cyclic;
          for (const bad of [{ fn: () => 1 }, Symbol('s'), [2n ** 70n], cyclic]) {
            await expect(end.call('Echo.echo', bad)).rejects.toBeInstanceOf(CodecError);
          }
          expect((await end.call('Echo.echo', 'still fine')).ok).toBe(true);
        });
      });
    });

    describe('large payloads', () => {
      it('1 MiB and 4 MiB arguments and replies arrive intact', async () => {
        await run(async (env) => {
          const end = await env.client();
          for (const size of [1 << 20, 4 << 20]) {
            const payload = new Uint8Array(size);
            for (let i = 0; i < size; i += 4096) payload[i] = i & 0xff;
            const echoed = await end.call<Uint8Array>('Echo.echo', payload, { timeoutMs: 10_000 });
            expect(
              echoed.ok && Buffer.compare(Buffer.from(echoed.reply), Buffer.from(payload)),
            ).toBe(0);
            const made = await end.call<Uint8Array>('Echo.bytes', { size }, { timeoutMs: 10_000 });
            expect(made.ok && made.reply.length === size && made.reply[size - 1] === 7).toBe(true);
          }
        });
      });
    });

    describe('concurrency', () => {
      it('16 clients with 50 calls each are all applied exactly once', async () => {
        await run(async (env) => {
          const ends = await Promise.all(Array.from({ length: 16 }, () => env.client()));
          await Promise.all(
            ends.map(async (end) => {
              for (let i = 0; i < 50; i++) {
                const result = await end.call<number>('Counter.add', { n: 1 });
                expect(result.ok).toBe(true);
              }
            }),
          );
          expect(await ends[0]?.call('Counter.get', null)).toEqual({ ok: true, reply: 800 });
        });
      });
    });
  });
}
