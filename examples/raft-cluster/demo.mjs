// Starts a 3-node Raft cluster (three node.mjs processes on free loopback ports, each with its own
// FilePersister directory under a temp dir), then acts as the client: 8 concurrent workers make
// 2,000 Demo.add increments over a few keys, retrying on not-leader and timeouts with the same
// (clientId, seq) so each increment applies exactly once. Midway it SIGKILLs the leader, keeps
// going on the new leader, and restarts the killed node from its data dir. At the end it checks
// that every key's value, read linearizably from the leader, equals the number of acknowledged
// increments, and that the three replicas applied the same state. Exit code 0 on success, 1 on a
// mismatch or failure. Run: pnpm build && node examples/raft-cluster/demo.mjs
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WsClient } from '@flotilla/transport';

const { values: opts } = parseArgs({
  options: {
    ops: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '8' },
    quiet: { type: 'boolean', default: false },
  },
});
const OPS = Number(opts.ops);
const WORKERS = Number(opts.workers);
const KEYS = ['apples', 'pears', 'plums', 'figs', 'limes', 'kiwis'];
const NODES = 3;
/** SIGKILL the leader once this many increments are acknowledged… */
const KILL_AT = Math.floor(OPS * 0.35);
/** …and restart it once the new leader has acknowledged this many more. */
const RESTART_AFTER = Math.floor(OPS * 0.25);
/** The whole run must finish within this, or it fails. */
const DEADLINE_MS = 30_000;

const nodeScript = fileURLToPath(new URL('./node.mjs', import.meta.url));
const started = performance.now();
const elapsed = () => ((performance.now() - started) / 1000).toFixed(1).padStart(5);
const log = (line) => console.log(`${elapsed()} s  ${line}`);
const quietLogger = { warn() {}, info() {} };

// ---- the cluster ---------------------------------------------------------------------------

/** Free loopback ports: bind to port 0, read the port back, release it. */
async function freePorts(n) {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

const token = randomBytes(16).toString('hex');
const dataRoot = await mkdtemp(join(tmpdir(), 'flotilla-raft-demo-'));
const urls = (await freePorts(NODES)).map((port) => `ws://127.0.0.1:${port}`);
/** The live child process of each node, or undefined while it is down. */
const procs = new Array(NODES).fill(undefined);
let failure;
const fail = (message) => {
  failure ??= new Error(message);
};

function startNode(i) {
  const child = spawn(
    process.execPath,
    [
      nodeScript,
      '--id',
      String(i),
      '--peers',
      urls.join(','),
      '--data-dir',
      join(dataRoot, `${i}`),
    ],
    {
      // The token goes through the environment, so it does not show in `ps`.
      env: { ...process.env, FLOTILLA_AUTH_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.expectedExit = false;
  procs[i] = child;
  const echo = (line) => {
    if (!opts.quiet) console.log(`         ${line}`);
  };
  createInterface({ input: child.stderr }).on('line', echo);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      echo(line);
      if (line.includes('| listening on')) resolve(child);
    });
    child.once('exit', (code, signal) => {
      if (procs[i] === child) procs[i] = undefined;
      const why = `node ${i} (pid ${child.pid}) exited with ${signal ?? `code ${code}`}`;
      reject(new Error(why));
      if (!child.expectedExit) fail(`${why} unexpectedly`);
    });
  });
}

async function stopNode(i, signal) {
  const child = procs[i];
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.expectedExit = true;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

// Ctrl-C: stop the workers, then clean up as on any failure (stop the nodes, remove the data).
process.once('SIGINT', () => fail('interrupted'));
// If this process dies early, take the children with it.
process.on('exit', () => {
  for (const child of procs)
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
});

// ---- the client ----------------------------------------------------------------------------

const clients = urls.map(
  (url) =>
    new WsClient({
      url,
      authToken: token,
      callTimeoutMs: 3000,
      reconnect: { initialDelayMs: 25, maxDelayMs: 250 },
      logger: quietLogger,
    }),
);
const RETRYABLE = new Set(['TIMEOUT', 'CONNECTION_LOST', 'UNREACHABLE', 'OVERLOADED', 'DROPPED']);
const stats = { acked: 0, retries: 0, leaderChanges: 0 };
let leaderGuess = 0;

/**
 * Calls `method` on the leader: follows leader hints, skips nodes that are down, and retries
 * the same arguments on timeouts and lost connections until a node answers `{ ok: true }`.
 */
async function callLeader(method, args) {
  let target = leaderGuess;
  for (let attempt = 1; ; attempt++) {
    if (failure !== undefined) throw failure;
    if (performance.now() - started > DEADLINE_MS) throw new Error(`${method}: deadline passed`);
    const client = clients[target];
    if (client.state === 'open') {
      const result = await client.call(method, args);
      if (result.ok && result.reply.ok) {
        leaderGuess = target;
        return result.reply;
      }
      if (!result.ok && !RETRYABLE.has(result.code)) {
        throw new Error(`${method} on node ${target}: ${result.code} ${result.message ?? ''}`);
      }
      stats.retries++;
      const hint = result.ok ? result.reply.leaderHint : undefined;
      if (Number.isInteger(hint) && hint !== target && clients[hint]?.state === 'open') {
        target = hint;
        continue;
      }
    }
    target = (target + 1) % NODES;
    // Every node refused or is down (an election is on): back off a little.
    if (attempt % NODES === 0) await sleep(20);
  }
}

const acked = new Map(KEYS.map((key) => [key, 0]));
const runId = randomBytes(4).toString('hex');
let nextOp = 0;

async function worker(w) {
  const clientId = `${runId}-worker-${w}`;
  let seq = 0;
  while (nextOp < OPS) {
    const op = nextOp++;
    const key = KEYS[op % KEYS.length];
    seq++; // one add outstanding per client: a retry reuses its seq, the next add takes seq + 1
    await callLeader('Demo.add', { key, amount: 1, clientId, seq });
    acked.set(key, acked.get(key) + 1);
    stats.acked++;
  }
}

async function statuses() {
  return Promise.all(
    clients.map(async (client, i) => {
      if (procs[i] === undefined || client.state !== 'open') return undefined;
      const result = await client.call('Demo.status', null, { timeoutMs: 500 });
      return result.ok ? result.reply : undefined;
    }),
  );
}

/** The current leader as the nodes report it (highest term wins), or undefined. */
async function findLeader() {
  const leaders = (await statuses()).filter((s) => s?.isLeader);
  leaders.sort((a, b) => b.term - a.term);
  return leaders[0];
}

// ---- the run -------------------------------------------------------------------------------

let leader;
let ok = false;
try {
  log(`data in ${dataRoot}`);
  log(`starting ${NODES} nodes on ${urls.join(' ')}`);
  await Promise.all(urls.map((_, i) => startNode(i)));
  await Promise.all(clients.map((client) => client.ready()));
  leader = await findLeader();
  while (leader === undefined) {
    await sleep(50);
    leader = await findLeader();
  }
  log(`leader is node ${leader.id} (term ${leader.term})`);

  let running = true;
  // Watches the leader and reports progress twice a second.
  const monitor = (async () => {
    let lastAcked = 0;
    let lastTime = performance.now();
    let lastReport = performance.now();
    while (running) {
      await sleep(100);
      const now = await findLeader();
      if (now !== undefined && now.term > leader.term) {
        if (now.id !== leader.id) stats.leaderChanges++;
        log(
          `leader is now node ${now.id} (term ${now.term}); leader changes: ${stats.leaderChanges}`,
        );
        leader = now;
      }
      if (performance.now() - lastReport >= 500) {
        const t = performance.now();
        const rate = ((stats.acked - lastAcked) / (t - lastTime)) * 1000;
        log(
          `acked ${String(stats.acked).padStart(5)}/${OPS}  ${String(Math.round(rate)).padStart(5)} commits/s  ` +
            `leader node ${leader.id} term ${leader.term}  retries ${stats.retries}`,
        );
        lastAcked = stats.acked;
        lastTime = t;
        lastReport = t;
      }
    }
  })();

  // Kills the leader midway and restarts it later from its data dir.
  const chaos = (async () => {
    while (stats.acked < KILL_AT) await sleep(5);
    const victim = await findLeader();
    if (victim === undefined) throw new Error('no leader to kill');
    const pid = procs[victim.id].pid;
    await stopNode(victim.id, 'SIGKILL');
    log(
      `SIGKILLed the leader, node ${victim.id} (pid ${pid}, term ${victim.term}, commitIndex ${victim.commitIndex}) at ${stats.acked} acked`,
    );
    const ackedAtKill = stats.acked;
    while (stats.acked < ackedAtKill + RESTART_AFTER && nextOp < OPS) await sleep(5);
    log(`restarting node ${victim.id} from ${join(dataRoot, String(victim.id))}`);
    await startNode(victim.id);
    return victim.id;
  })();

  const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
  const [restarted] = await Promise.all([chaos, ...workers]);
  running = false;
  await monitor;
  const seconds = (performance.now() - started) / 1000;
  log(
    `all ${OPS} increments acknowledged (${WORKERS} workers, ${stats.retries} retried calls, ${stats.leaderChanges} leader change(s)); ${seconds.toFixed(1)} s so far`,
  );

  // The restarted node must catch up: every replica applies the same state.
  let replicas;
  for (let i = 0; ; i++) {
    replicas = await statuses();
    const top = Math.max(...replicas.map((s) => s?.commitIndex ?? 0));
    const agreed =
      replicas.every((s) => s !== undefined && s.lastApplied === top) &&
      new Set(replicas.map((s) => s.digest)).size === 1;
    if (agreed) break;
    if (i === 100) throw new Error(`replicas did not converge: ${JSON.stringify(replicas)}`);
    await sleep(50);
  }
  log(
    `node ${restarted} caught up; all ${NODES} replicas applied index ${replicas[0].lastApplied} with state digest ${replicas[0].digest}` +
      ` (${replicas[0].duplicates} retried add(s) committed twice and applied once)`,
  );

  // The final check: linearizable reads through the leader against the acknowledged counts.
  let mismatches = 0;
  let total = 0;
  for (const key of KEYS) {
    const { value } = await callLeader('Demo.get', { key });
    const want = acked.get(key);
    total += value;
    if (value !== want) mismatches++;
    log(
      `  ${key.padEnd(7)} = ${String(value).padStart(4)}  acknowledged ${String(want).padStart(4)}  ${value === want ? 'ok' : 'MISMATCH'}`,
    );
  }
  if (mismatches === 0 && total === OPS) {
    ok = true;
    log(`check passed: ${total} increments, every acknowledged one applied exactly once`);
  } else {
    log(`check FAILED: ${mismatches} key(s) differ; total ${total}, acknowledged ${OPS}`);
  }
} catch (err) {
  log(`demo failed: ${failure?.message ?? err.message}`);
} finally {
  await Promise.all(clients.map((client) => client.close()));
  await Promise.all(procs.map((_, i) => stopNode(i, 'SIGTERM')));
  await rm(dataRoot, { recursive: true, force: true });
  log(`cluster stopped, ${dataRoot} removed`);
}
process.exit(ok ? 0 : 1);
