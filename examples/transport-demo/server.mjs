// The server process: a small key/value service over WebSocket + msgpack, with a shared secret.
// Prints its port on stdout as one JSON line so the parent can connect.
import { RpcServer, validated, WsServer } from '@flotilla/transport';

const store = new Map();
const isPut = (a) => typeof a?.key === 'string' && typeof a?.value === 'string';
const isKey = (a) => typeof a?.key === 'string';

const rpc = new RpcServer().addService('Kv', {
  put: validated(isPut, ({ key, value }) => {
    store.set(key, value);
    return { ok: true };
  }),
  get: validated(isKey, ({ key }) => ({ value: store.get(key) ?? '' })),
  size: () => store.size,
});

const server = await WsServer.listen({
  rpcServer: rpc,
  port: Number(process.env.PORT ?? 0),
  authToken: process.env.FLOTILLA_AUTH_TOKEN,
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
const stop = () => server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
