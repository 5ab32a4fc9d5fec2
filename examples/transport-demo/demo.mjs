// Starts the server (server.mjs) as a child process, then acts as the client from this process:
// writes and reads keys over WebSocket RPC with many calls in flight, shows what bad input gets,
// and stops the server. Run: pnpm demo (from the repository root).
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { WsClient } from '@flotilla/transport';

const token = randomBytes(16).toString('hex');
const child = fork(fileURLToPath(new URL('./server.mjs', import.meta.url)), {
  env: { ...process.env, FLOTILLA_AUTH_TOKEN: token },
  stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
});
const killServer = () => child.exitCode === null && child.kill('SIGTERM');
process.on('exit', killServer);

const [line] = await once(child.stdout, 'data');
const { url } = JSON.parse(String(line));
console.log(`server pid ${child.pid} listening on ${url}`);

const client = new WsClient({ url, authToken: token });
await client.ready();

const keys = 20_000;
const inFlight = 64;
const latencies = [];
const timed = async (method, args) => {
  const start = performance.now();
  const result = await client.call(method, args);
  latencies.push(performance.now() - start);
  if (!result.ok) throw new Error(`${method} failed: ${result.code}`);
  return result.reply;
};

const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (next < keys) {
      const i = next++;
      await timed('Kv.put', { key: `key-${i}`, value: `value-${i * i}` });
      const { value } = await timed('Kv.get', { key: `key-${i}` });
      if (value !== `value-${i * i}`) throw new Error(`key-${i}: read ${value}`);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.floor(p * (latencies.length - 1))].toFixed(2);
console.log(
  `${latencies.length} round trips (${keys} puts + ${keys} gets, ${inFlight} in flight) in ${seconds.toFixed(2)} s: ` +
    `${Math.round(latencies.length / seconds)} calls/s, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`,
);
console.log(
  'server holds',
  (await client.call('Kv.size', null)).reply,
  'keys; every read matched its write',
);

console.log('bad input gets a typed answer and the server keeps serving:');
const show = (label, result) => console.log(`  ${label} -> ${JSON.stringify(result)}`);
show('unknown method  ', await client.call('Kv.drop', {}));
show('wrong arguments ', await client.call('Kv.put', { key: 42 }));
const intruder = new WsClient({ url, authToken: 'wrong-token', logger: { warn() {}, info() {} } });
show('wrong auth token', await intruder.call('Kv.size', null));
show('still serving   ', await client.call('Kv.get', { key: 'key-7' }));

await intruder.close();
await client.close();
killServer();
await once(child, 'exit');
console.log('done');
