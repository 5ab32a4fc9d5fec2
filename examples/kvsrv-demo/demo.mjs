// Starts `flotilla-kvsrv serve` as a child process and talks to it from this one through a TCP
// proxy that cuts every connection at a random moment every few tens of milliseconds, so
// requests and replies are lost mid-flight. Clerks resend until answered; at the end every
// append must be in its key exactly once and in order. Run: pnpm demo:kvsrv (repository root).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { connectClerk } from '@flotilla/kvsrv';

const CLERKS = 16;
const SECONDS = 5;

const require = createRequire(import.meta.url);
const cli = path.join(path.dirname(require.resolve('@flotilla/kvsrv/package.json')), 'dist/cli.js');
const token = randomBytes(16).toString('hex');
const server = spawn(process.execPath, [cli, 'serve', '--listen', '127.0.0.1:0'], {
  env: { ...process.env, FLOTILLA_AUTH_TOKEN: token },
  stdio: ['ignore', 'pipe', 'inherit'],
});
process.on('exit', () => server.exitCode === null && server.kill('SIGKILL'));
const [line] = await once(server.stdout, 'data');
const serverUrl = new URL(
  String(line)
    .trim()
    .replace(/^listening /, ''),
);
console.log(`kvsrv server pid ${server.pid} on ${serverUrl.href}`);

// The lossy link: every connection through it is destroyed after 20–80 ms.
const sockets = new Set();
let cuts = 0;
const proxy = net.createServer((inbound) => {
  const outbound = net.connect(Number(serverUrl.port), serverUrl.hostname);
  const pair = [inbound, outbound];
  for (const s of pair) {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      for (const t of pair) t.destroy();
    });
  }
  inbound.pipe(outbound);
  outbound.pipe(inbound);
  setTimeout(
    () => {
      if (!inbound.destroyed) cuts++;
      inbound.destroy();
    },
    20 + Math.random() * 60,
  );
});
proxy.listen(0, '127.0.0.1');
await once(proxy, 'listening');
const proxyUrl = `ws://127.0.0.1:${proxy.address().port}`;
console.log(
  `${CLERKS} clerks talk to it through ${proxyUrl}, which cuts each connection within 80 ms`,
);

const clerks = Array.from({ length: CLERKS }, () =>
  connectClerk(proxyUrl, { authToken: token, callTimeoutMs: 500 }),
);
let stop = false;
setTimeout(() => {
  stop = true;
}, SECONDS * 1000);
const counts = await Promise.all(
  clerks.map(async (clerk, c) => {
    const key = `log-${c}`;
    await clerk.put(key, '');
    let expected = '';
    let n = 0;
    while (!stop) {
      const element = `x ${c} ${n} y;`;
      const old = await clerk.append(key, element);
      if (old !== expected) throw new Error(`${key}: append ${n} saw ${JSON.stringify(old)}`);
      expected += element;
      n++;
      if (n % 10 === 0 && (await clerk.get(key)) !== expected)
        throw new Error(`${key}: get after ${n} appends differs`);
    }
    return n;
  }),
);

// Read everything back over a direct connection and check each element occurs once, in order.
const reader = connectClerk(serverUrl.href.replace(/\/$/, ''), { authToken: token });
let appends = 0;
for (let c = 0; c < CLERKS; c++) {
  const value = await reader.get(`log-${c}`);
  const elements = value.split(';').filter(Boolean);
  const want = Array.from({ length: counts[c] }, (_, n) => `x ${c} ${n} y`);
  if (elements.join(';') !== want.join(';'))
    throw new Error(`log-${c}: ${elements.length} elements, expected ${counts[c]} in order`);
  appends += counts[c];
}
console.log(
  `${appends} appends by ${CLERKS} clerks in ${SECONDS} s while the proxy cut ${cuts} connections ` +
    'mid-call: every append is in its key exactly once, in order.',
);

await Promise.all([...clerks, reader].map((clerk) => clerk.close()));
for (const s of sockets) s.destroy();
proxy.close();
server.kill('SIGTERM');
const [code] = await once(server, 'exit');
console.log(`server stopped (exit code ${code})`);
