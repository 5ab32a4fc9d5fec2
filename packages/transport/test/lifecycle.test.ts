import { describe, expect, it } from 'vitest';
import {
  AuthFailedError,
  ClientClosedError,
  RpcServer,
  SeededRandom,
  SimNetwork,
  VirtualClock,
  WsClient,
  WsServer,
} from '../src/index.js';

// The lifecycle every server and client follows (docs/DESIGN.md, "Lifecycle").
describe('lifecycle', () => {
  it('WsServer.close is idempotent: every call gets the first call’s promise', async () => {
    const server = await WsServer.listen({ rpcServer: new RpcServer() });
    const first = server.close();
    const second = server.close();
    expect(second).toBe(first);
    await first;
    await expect(server.close()).resolves.toBeUndefined();
  });

  it('WsClient.close is idempotent; ready() afterwards rejects with ClientClosedError', async () => {
    const server = await WsServer.listen({ rpcServer: new RpcServer() });
    const client = new WsClient({ url: server.url });
    await client.ready();
    const first = client.close();
    expect(client.close()).toBe(first);
    await first;
    const err = await client.ready().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientClosedError);
    expect((err as ClientClosedError).code).toBe('ERR_CLIENT_CLOSED');
    await expect(client.call('x.y', null)).resolves.toEqual({ ok: false, code: 'CLOSED' });
    await server.close();
  });

  it('a ready() waiter is rejected with ClientClosedError when the client closes first', async () => {
    // Nothing listens on port 1: the client stays connecting.
    const client = new WsClient({ url: 'ws://127.0.0.1:1', logger: { warn() {}, info() {} } });
    const waiting = client.ready();
    await client.close();
    await expect(waiting).rejects.toBeInstanceOf(ClientClosedError);
  });

  it('ready() rejects with AuthFailedError when the server refuses the token', async () => {
    const server = await WsServer.listen({
      rpcServer: new RpcServer(),
      authToken: 'right',
      logger: { warn() {}, info() {} },
    });
    const client = new WsClient({ url: server.url, authToken: 'wrong', reconnect: false });
    const err = await client.ready().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthFailedError);
    expect((err as AuthFailedError).code).toBe('ERR_AUTH_FAILED');
    await expect(client.ready()).rejects.toBeInstanceOf(AuthFailedError);
    await client.close();
    await server.close();
  });

  it('SimNetwork does not expose its per-call procedure', () => {
    const net = new SimNetwork({ clock: new VirtualClock(), random: new SeededRandom(1) });
    expect('process' in net).toBe(false);
    expect(Object.keys(net.makeEnd('a'))).toEqual(['name']);
  });
});
