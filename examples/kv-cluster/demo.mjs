// Starts a 3-replica @flotilla/kvraft cluster: three `flotilla-kvraft serve` processes on free
// loopback ports, each with its data dir (WAL + snapshots, fsync on every save) under a fresh
// temp dir, snapshotting once the Raft state passes 64 KiB. Then C concurrent clerks (8) make
// N operations (4,000): appends of unique tokens to four shared keys and puts to distinct keys.
// At 35% it SIGKILLs the leader (known from the replicas' `raft state` log lines), keeps going
// on the new leader, and restarts the killed replica on its own data dir once another 25% are
// acknowledged. At the end it reads every key back: each append key must hold every
// acknowledged token exactly once, each clerk's tokens in the order it made them, and each put
// key its value. Exit 0 on success; 1 on a lost, duplicated or reordered write, an error, or
// the 60 s deadline; every replica is stopped and the temp dir removed on every path.
// Run: pnpm demo (repository root), or node examples/kv-cluster/demo.mjs once built.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { connectClerk } from '@flotilla/kvraft';
import cliProgress from 'cli-progress';

const USAGE = `usage: node examples/kv-cluster/demo.mjs [--ops N] [--clients C] [--quiet]
  --ops N      operations to make in all (default 4000; at least 20)
  --clients C  concurrent clerks, one operation in flight each (default 8)
  --quiet      no progress bar: a status line every 2 s (also when stdout is not a terminal or CI is set)`;

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      ops: { type: 'string', default: '4000' },
      clients: { type: 'string', default: '8' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  console.error(`kv-cluster: ${err.message}\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
const integerFlag = (flag, text, min, max) => {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    console.error(
      `kv-cluster: --${flag} wants an integer from ${min} to ${max}, got ${text}\n${USAGE}`,
    );
    process.exit(2);
  }
  return n;
};
const OPS = integerFlag('ops', opts.ops, 20, 1_000_000);
const CLIENTS = integerFlag('clients', opts.clients, 1, 256);

const NODES = 3;
/** Snapshot once a replica's Raft state reaches this many bytes: several times per run. */
const MAXRAFTSTATE = 64 * 1024;
/** Four of every five operations append to one of these; the fifth puts a key of its own. */
const APPEND_KEYS = ['log-0', 'log-1', 'log-2', 'log-3'];
/** SIGKILL the leader once this many operations are acknowledged… */
const KILL_AT = Math.floor(OPS * 0.35);
/** …and restart it once this many more are. */
const RESTART_AFTER = Math.floor(OPS * 0.25);
/** The whole run must be over by then, or it fails. */
const DEADLINE_MS = 60_000;
/** A bar in a terminal; plain status lines in CI, into a pipe or a file, or with --quiet. */
const FANCY = process.stdout.isTTY === true && !process.env.CI && !opts.quiet;

const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve('@flotilla/kvraft/package.json')), 'dist/cli.js');
const started = performance.now();
const now = () => performance.now() - started;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

// ---- output: events as lines, progress as a bar or as a line every 2 s ---------------------

let bars;
let bar;
function say(line) {
  const text = `${(now() / 1000).toFixed(1).padStart(5)} s  ${line}`;
  if (bar !== undefined) bars.log(`${text}\n`);
  else console.log(text);
}
function stopBar() {
  if (bar === undefined) return;
  bars.update(); // flushes the lines logged since the last redraw
  bars.stop();
  bar = undefined;
}

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
const dataRoot = await mkdtemp(join(tmpdir(), 'flotilla-kv-cluster-'));
const dataDir = (i) => join(dataRoot, `node-${i}`);
const logFile = (i) => join(dataRoot, `node-${i}.log`);
/** The live child process of each replica, or undefined while it is down. */
const procs = new Array(NODES).fill(undefined);
/** Each live replica's latest `raft state` line: { term, role, leaderId }. */
const raftStates = new Array(NODES).fill(undefined);
/** The last lines each replica wrote on stderr, for a failure report. */
const tails = Array.from({ length: NODES }, () => []);
/** Warnings and errors the replicas logged: `node|msg` → { count, first line }. */
const serverNotes = new Map();
const stats = {
  acked: 0,
  appends: 0,
  puts: 0,
  leaderChanges: 0,
  clerkWarnings: 0,
  longestStallMs: 0,
  lastAckAt: 0,
};
/** The leader the cluster has now (from the replicas' logs), or undefined. */
let leader;
/** The SIGKILL of the leader: { id, at, newLeaderAt, resumedAt }. */
let kill;

/** The clerks of the workload (connected once the replicas listen). */
let clerks = [];
let failure;
let abortRun;
/** Rejects with the first failure; every wait of the run races against it. */
const aborted = new Promise((_, reject) => {
  abortRun = reject;
});
aborted.catch(() => {});
const guard = (promise) => Promise.race([promise, aborted]);
function fail(err, exitCode = 1) {
  if (failure !== undefined) return;
  failure = err instanceof Error ? err : new Error(String(err));
  failure.exitCode = exitCode;
  abortRun(failure);
  // Ends the operations in flight at once (they reject with ClerkClosedError).
  for (const clerk of clerks) void clerk.close();
}
const deadline = setTimeout(
  () => fail(new Error(`deadline: the run is not over after ${seconds(DEADLINE_MS)}`)),
  DEADLINE_MS,
);

/** The live replica that says it leads, at the highest term. */
function currentLeader() {
  let best;
  for (let i = 0; i < NODES; i++) {
    const state = raftStates[i];
    if (procs[i] === undefined || state?.role !== 'leader') continue;
    if (best === undefined || state.term > best.term) best = { id: i, term: state.term };
  }
  return best;
}

function onRaftState() {
  const next = currentLeader();
  if (next === undefined || (leader?.id === next.id && leader.term === next.term)) return;
  const previous = leader;
  leader = next;
  if (previous === undefined) {
    say(`leader: node ${next.id} (term ${next.term})`);
    return;
  }
  if (previous.id !== next.id) stats.leaderChanges++;
  const firstAfterKill =
    kill !== undefined && kill.newLeaderAt === undefined && next.id !== kill.id;
  if (firstAfterKill) kill.newLeaderAt = now();
  const after = firstAfterKill
    ? `, ${Math.round(kill.newLeaderAt - kill.at)} ms after the kill`
    : '';
  say(
    `leader: node ${next.id} (term ${next.term}), was node ${previous.id} (term ${previous.term})${after}`,
  );
}

function onServerLine(i, line) {
  appendFileSync(logFile(i), `${line}\n`);
  tails[i].push(line);
  if (tails[i].length > 20) tails[i].shift();
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    entry = { level: 'error', msg: line };
  }
  if (entry.msg === 'raft state') {
    raftStates[i] = { term: entry.term, role: entry.role, leaderId: entry.leaderId };
    onRaftState();
    return;
  }
  // Other events (a stale lock removed after the SIGKILL, a torn write cut) as they happen;
  // connection errors, expected while a replica is down, only in the summary at the end.
  if (entry.msg !== 'ws client: connection error') say(`node ${i}: ${line}`);
  if (entry.level === 'info') return;
  const key = `${i}|${entry.msg}`;
  const note = serverNotes.get(key);
  if (note !== undefined) note.count++;
  else serverNotes.set(key, { node: i, count: 1, line, at: now() });
}

function startNode(i) {
  const child = spawn(
    process.execPath,
    [
      cli,
      'serve',
      '--id',
      String(i),
      '--peers',
      urls.join(','),
      '--data-dir',
      dataDir(i),
      '--maxraftstate',
      String(MAXRAFTSTATE),
    ],
    {
      // The token goes through the environment, so it does not show in `ps`.
      env: { ...process.env, FLOTILLA_AUTH_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.expectedExit = false;
  procs[i] = child;
  raftStates[i] = undefined;
  createInterface({ input: child.stderr }).on('line', (line) => onServerLine(i, line));
  return guard(
    new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.startsWith('listening ')) resolve(child);
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        if (procs[i] === child) {
          procs[i] = undefined;
          raftStates[i] = undefined;
        }
        child.exitedWith = signal ?? code;
        const why = `node ${i} (pid ${child.pid}) exited with ${signal ?? `code ${code}`}`;
        reject(new Error(why));
        if (!child.expectedExit) fail(new Error(`${why} unexpectedly`));
      });
    }),
  );
}

/** Stops replica i with `signal` (SIGKILL after 3 s if it is still there); resolves once it is gone. */
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

// Ctrl-C or a SIGTERM: end the run, then clean up as on any failure. A second one exits at once.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]) {
  process.on(signal, () => {
    if (failure !== undefined) process.exit(code);
    fail(new Error(`interrupted (${signal})`), code);
  });
}
// Whatever ends this process, the replicas and the temp dir go with it.
process.on('exit', () => {
  if (bar !== undefined) process.stdout.write('\x1B[?25h'); // the bar hid the cursor
  for (const child of procs) if (child?.exitCode === null) child.kill('SIGKILL');
  try {
    rmSync(dataRoot, { recursive: true, force: true });
  } catch (err) {
    console.error(`kv-cluster: could not remove ${dataRoot}: ${err.message}`);
  }
});

const urls = (await freePorts(NODES)).map((port) => `ws://127.0.0.1:${port}`);

// ---- the workload --------------------------------------------------------------------------

const clerkLogger = {
  warn: () => {
    stats.clerkWarnings++;
  },
  info: () => {},
};
/** Acknowledged appends: key → Set of tokens; acknowledged puts: key → value. */
const appended = new Map(APPEND_KEYS.map((key) => [key, new Set()]));
const written = new Map();
let nextOp = 0;

function acknowledged() {
  const t = now();
  if (stats.lastAckAt > 0)
    stats.longestStallMs = Math.max(stats.longestStallMs, t - stats.lastAckAt);
  stats.lastAckAt = t;
  stats.acked++;
  if (kill?.newLeaderAt !== undefined && kill.resumedAt === undefined) kill.resumedAt = t;
  bar?.update(stats.acked, { leader: leaderLabel() });
}

/** Clerk c: one operation at a time, so its k-th token is applied after its (k-1)-th. */
async function worker(c) {
  const clerk = clerks[c];
  for (let k = 1; nextOp < OPS && failure === undefined; k++) {
    const op = nextOp++;
    if (op % 5 === 4) {
      const key = `put-${c}-${k}`;
      const value = `${op}:${randomBytes(6).toString('hex')}`;
      await clerk.put(key, value);
      written.set(key, value);
      stats.puts++;
    } else {
      const key = APPEND_KEYS[op % 5];
      const item = `c${c}.${k}`;
      await clerk.append(key, `${item};`);
      appended.get(key).add(item);
      stats.appends++;
    }
    acknowledged();
  }
}

/** The live leader, or "electing" while there is none (right after the kill, say). */
const leaderLabel = () => {
  const live = currentLeader();
  return live === undefined ? 'electing' : `node ${live.id} term ${live.term}`;
};

async function until(predicate) {
  while (!predicate()) {
    if (failure !== undefined) throw failure;
    await sleep(10);
  }
}

// ---- the check -----------------------------------------------------------------------------

/** Reads every key back (the clerks share the reads) and lists every write that is not there once, in order. */
async function check() {
  const problems = [];
  const keys = [...APPEND_KEYS, ...written.keys()];
  const values = new Map();
  let next = 0;
  await guard(
    Promise.all(
      clerks.map(async (clerk) => {
        while (next < keys.length) {
          const key = keys[next++];
          values.set(key, await clerk.get(key));
        }
      }),
    ),
  );
  let appendsFound = 0;
  for (const key of APPEND_KEYS) {
    const want = appended.get(key);
    const items = values.get(key).split(';');
    if (items.pop() !== '') problems.push(`${key}: does not end with ";"`);
    const seen = new Set();
    const lastK = new Map();
    for (const item of items) {
      const match = /^c(\d+)\.(\d+)$/.exec(item);
      if (match === null) {
        problems.push(`${key}: holds ${JSON.stringify(item)}, which no clerk wrote`);
        continue;
      }
      if (seen.has(item)) problems.push(`${key}: ${item} is there twice`);
      else if (!want.has(item))
        problems.push(`${key}: ${item} is there but was never acknowledged`);
      else appendsFound++;
      seen.add(item);
      const [c, k] = [Number(match[1]), Number(match[2])];
      if ((lastK.get(c) ?? 0) >= k)
        problems.push(`${key}: ${item} comes after c${c}.${lastK.get(c)}`);
      lastK.set(c, k);
    }
    for (const item of want)
      if (!seen.has(item)) problems.push(`${key}: acknowledged ${item} is missing`);
  }
  let putsFound = 0;
  for (const [key, value] of written) {
    const got = values.get(key);
    if (got === value) putsFound++;
    else problems.push(`${key}: is ${JSON.stringify(got)}, acknowledged ${JSON.stringify(value)}`);
  }
  return { problems, appendsFound, putsFound, keys: keys.length, values };
}

/** The newest snapshot file in each replica's data dir: "#seq (size)". */
async function snapshots() {
  return Promise.all(
    Array.from({ length: NODES }, async (_, i) => {
      const names = await readdir(dataDir(i)).catch(() => []);
      const snap = names
        .filter((name) => /^snapshot-\d+\.snap$/.test(name))
        .sort()
        .pop();
      if (snap === undefined) return `node ${i} none`;
      const { size } = await stat(join(dataDir(i), snap));
      return `node ${i} #${Number(snap.slice(9, -5))} (${(size / 1024).toFixed(1)} KiB)`;
    }),
  );
}

// ---- the run -------------------------------------------------------------------------------

let ok = false;
/** The progress monitor runs while this is true. */
let running = true;
try {
  say(`data and logs in ${dataRoot}`);
  say(`starting ${NODES} replicas on ${urls.join(' ')} (--maxraftstate ${MAXRAFTSTATE})`);
  await Promise.all(urls.map((_, i) => startNode(i)));
  say(`all ${NODES} replicas listening (pids ${procs.map((p) => p.pid).join(', ')})`);
  await until(() => leader !== undefined);
  clerks = Array.from({ length: CLIENTS }, () =>
    connectClerk(urls, { authToken: token, logger: clerkLogger }),
  );

  say(
    `${CLIENTS} clerks: ${OPS} operations, 4/5 appends to ${APPEND_KEYS.length} keys and 1/5 puts to keys of their own`,
  );
  if (FANCY) {
    bars = new cliProgress.MultiBar(
      {
        format: ' {bar} {percentage}% | {value}/{total} ops | {rate} ops/s | leader {leader}',
        barsize: 30,
        hideCursor: true,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    bar = bars.create(OPS, 0, { rate: '0', leader: leaderLabel() });
  }
  const workStart = now();
  // The rate over the last second: on the bar 10 times a second, or as a line every 2 s.
  const monitor = (async () => {
    const window = [{ t: now(), acked: 0 }];
    let lastLine = now();
    while (running) {
      await sleep(100);
      const t = now();
      window.push({ t, acked: stats.acked });
      while (window.length > 2 && t - window[0].t > 1000) window.shift();
      const rate = Math.round(((stats.acked - window[0].acked) / (t - window[0].t)) * 1000);
      if (bar !== undefined) {
        bar.update(stats.acked, { rate: String(rate).padStart(4), leader: leaderLabel() });
      } else if (t - lastLine >= 2000 && running) {
        lastLine = t;
        say(
          `${String(stats.acked).padStart(String(OPS).length)}/${OPS} ops  ${String(rate).padStart(4)} ops/s  leader ${leaderLabel()}`,
        );
      }
    }
  })();

  // Kills the leader at KILL_AT, restarts it RESTART_AFTER operations later.
  const chaos = (async () => {
    await until(() => stats.acked >= KILL_AT);
    await until(() => currentLeader() !== undefined);
    const victim = currentLeader();
    const { pid } = procs[victim.id];
    const ackedAtKill = stats.acked;
    await stopNode(victim.id, 'SIGKILL');
    kill = { id: victim.id, at: now() };
    say(
      `SIGKILLed the leader, node ${victim.id} (pid ${pid}, term ${victim.term}), at ${ackedAtKill} ops`,
    );
    await until(() => stats.acked >= ackedAtKill + RESTART_AFTER || nextOp >= OPS);
    say(`restarting node ${victim.id} on ${dataDir(victim.id)}`);
    await startNode(victim.id);
    say(`node ${victim.id} is back (pid ${procs[victim.id].pid})`);
    return victim.id;
  })();

  const [restarted] = await guard(Promise.all([chaos, ...clerks.map((_, c) => worker(c))]));
  running = false;
  await monitor;
  bar?.update(stats.acked);
  stopBar();
  const workMs = now() - workStart;
  say(
    `all ${OPS} operations acknowledged in ${seconds(workMs)} (${Math.round((OPS / workMs) * 1000)} ops/s); ` +
      `longest pause between acknowledgements ${Math.round(stats.longestStallMs)} ms`,
  );

  // The restarted replica rejoins: a follower of the current leader, in its term.
  await until(() => {
    const state = raftStates[restarted];
    const current = currentLeader();
    return (
      current !== undefined &&
      state !== undefined &&
      state.term === current.term &&
      (state.leaderId === current.id || current.id === restarted)
    );
  });
  say(
    `node ${restarted} rejoined: ${raftStates[restarted].role} in term ${raftStates[restarted].term}, leader node ${currentLeader().id}`,
  );

  const result = await check();
  say(`read back ${result.keys} keys`);
  say(`latest snapshots: ${(await snapshots()).join(', ')}`);
  if (result.problems.length === 0) {
    ok = true;
    const failover =
      kill?.newLeaderAt === undefined
        ? ''
        : `failover: new leader ${Math.round(kill.newLeaderAt - kill.at)} ms after the kill, ` +
          `writes acknowledged again after ${Math.round((kill.resumedAt ?? kill.at) - kill.at)} ms; `;
    say(
      `check passed: ${stats.acked} operations acknowledged; ${result.appendsFound}/${stats.appends} appends verified ` +
        `(each exactly once, in per-clerk order, in ${APPEND_KEYS.length} keys); ${result.putsFound}/${stats.puts} puts verified; ` +
        `${failover}leader changes: ${stats.leaderChanges}; ${seconds(now())} in all`,
    );
  } else {
    say(`check FAILED: ${result.problems.length} problem(s)`);
    for (const problem of result.problems.slice(0, 30)) say(`  ${problem}`);
    if (result.problems.length > 30) say(`  … and ${result.problems.length - 30} more`);
  }
} catch (err) {
  fail(err); // stops the other clerks and loops, if this came from one of them
  running = false;
  stopBar();
  const reason = failure;
  say(`demo FAILED: ${reason.message}`);
  say(`acknowledged ${stats.acked}/${OPS} operations; leader ${leaderLabel()}`);
  for (let i = 0; i < NODES; i++) {
    if (tails[i].length === 0 || reason.exitCode > 1) continue; // not after Ctrl-C
    say(`last lines of node ${i}'s log:`);
    for (const line of tails[i].slice(-8)) say(`  ${line}`);
  }
} finally {
  clearTimeout(deadline);
  stopBar();
  if (serverNotes.size > 0 || stats.clerkWarnings > 0) {
    const notes = [...serverNotes.values()].map(
      (note) => `node ${note.node}: ${note.count}×, first at ${seconds(note.at)}: ${note.line}`,
    );
    say(
      `warnings: ${stats.clerkWarnings} from the clerks' connections; from the replicas:${notes.length === 0 ? ' none' : ''}`,
    );
    for (const note of notes) say(`  ${note}`);
  }
  // Never wait on a clerk for long: the cluster may be gone.
  await Promise.race([Promise.all(clerks.map((clerk) => clerk.close())), sleep(2000)]);
  const signal = ok ? 'SIGTERM' : 'SIGKILL';
  const stopping = procs.map((child) => child);
  await Promise.all(procs.map((_, i) => stopNode(i, signal)));
  const codes = stopping.map(
    (child, i) => `node ${i} ${child === undefined ? 'down' : child.exitedWith}`,
  );
  if (ok && stopping.some((child) => child !== undefined && child.exitedWith !== 0)) {
    say(`a replica did not exit 0 on SIGTERM: ${codes.join(', ')}`);
  }
  await rm(dataRoot, { recursive: true, force: true });
  say(`replicas stopped with ${signal} (${codes.join(', ')}); ${dataRoot} removed`);
}
process.exit(ok ? 0 : (failure?.exitCode ?? 1));
