// Starts a sharded @flotilla/shardkv service on loopback (cluster.mjs): three controller
// replicas (`flotilla-shardctrler serve`) and three groups of three replicas (`flotilla-shardkv
// serve`, gids 100-102), each with its data dir under a fresh temp dir, snapshotting once the
// Raft state passes 64 KiB. Group 100 is joined first; then C concurrent clerks (8) make N
// operations (4,000): appends of unique tokens to twenty shared keys spread over the ten
// shards, and puts to keys of their own. Meanwhile the demo reconfigures by acknowledged
// fractions: join 101 at 15%, join 102 at 35%, leave 100 at 55%, join 100 again at 75%, so
// shards move between groups under load. Right after the join of 102 it SIGKILLs that group's
// leader (known from the replicas' `raft state` log lines) as it starts to pull its new
// shards, and restarts it on its own data dir once another 12% are acknowledged. At the end it
// reads every key back: each append key must hold every acknowledged token exactly once, each
// clerk's tokens in the order it made them, and each put key its value. Exit 0 on success; 1 on
// a lost, duplicated or reordered write, an error, or the 90 s deadline; 2 on a bad flag. Every
// process is stopped and the temp dir removed on every path.
// Run: pnpm demo:shard (repository root), or node examples/sharded-cluster/demo.mjs once built.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { CTRLER, createCluster, spread } from './cluster.mjs';
import { APPEND_KEYS, createWorkload } from './workload.mjs';

const USAGE = `usage: node examples/sharded-cluster/demo.mjs [--ops N] [--clients C] [--quiet]
  --ops N      operations to make in all (default 4000; at least 100)
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
  console.error(`sharded-cluster: ${err.message}\n${USAGE}`);
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
      `sharded-cluster: --${flag} wants an integer from ${min} to ${max}, got ${text}\n${USAGE}`,
    );
    process.exit(2);
  }
  return n;
};
const OPS = integerFlag('ops', opts.ops, 100, 1_000_000);
const CLIENTS = integerFlag('clients', opts.clients, 1, 256);

const GIDS = [100, 101, 102];
const REPLICAS = 3;
/** Snapshot once a replica's Raft state reaches this many bytes. */
const MAXRAFTSTATE = 64 * 1024;
/** Group 100 serves every shard first; then, at these fractions of the operations acknowledged: */
const STEPS = [
  { at: 0.15, op: 'join', gid: 101 },
  { at: 0.35, op: 'join', gid: 102, kill: true },
  { at: 0.55, op: 'leave', gid: 100 },
  { at: 0.75, op: 'join', gid: 100 },
];
/**
 * The SIGKILL of the joining group's leader comes as soon as it logs that it applied the new
 * config (it then pulls its new shards), or at the latest this long after the Join…
 */
const KILL_WITHIN_MS = 1000;
/** …and the restart once this many more operations are acknowledged. */
const RESTART_AFTER = Math.floor(OPS * 0.12);
/** The whole run must be over by then, or it fails. */
const DEADLINE_MS = 90_000;
/** A bar in a terminal; plain status lines in CI, into a pipe or a file, or with --quiet. */
const FANCY = process.stdout.isTTY === true && !process.env.CI && !opts.quiet;

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

let clerkWarnings = 0;
/** The clerks' connections' logger: warnings (a node down) are only counted. */
const clerkLogger = {
  warn: () => {
    clerkWarnings++;
  },
  info: () => {},
};

// ---- failure, the deadline, signals, cleanup -----------------------------------------------

const token = randomBytes(16).toString('hex');
const dataRoot = await mkdtemp(join(tmpdir(), 'flotilla-sharded-cluster-'));
/** The clerks of the workload (connected once the nodes listen). */
let clerks = [];
let cluster;
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
// Whatever ends this process, the nodes and the temp dir go with it.
process.on('exit', () => {
  if (bar !== undefined) process.stdout.write('\x1B[?25h'); // the bar hid the cursor
  cluster?.killAllNow();
  try {
    rmSync(dataRoot, { recursive: true, force: true });
  } catch (err) {
    console.error(`sharded-cluster: could not remove ${dataRoot}: ${err.message}`);
  }
});

cluster = await createCluster({
  dataRoot,
  token,
  gids: GIDS,
  replicas: REPLICAS,
  maxraftstate: MAXRAFTSTATE,
  clerkLogger,
  say,
  fail,
  guard,
  now,
});
const ctrlerUrls = cluster.urlsOf(CTRLER);

// ---- the workload (workload.mjs) ------------------------------------------------------------

/** Made once the clerks are connected. */
let workload;
const acked = () => workload?.stats.acked ?? 0;

async function until(predicate) {
  while (!predicate()) {
    if (failure !== undefined) throw failure;
    await sleep(10);
  }
}

// ---- reconfiguration (the controller's side in cluster.mjs) --------------------------------

const { configLabel, leaderLabel } = cluster;

/** SIGKILLs the leader of `gid` while it takes on `config`'s shards; restarts it later. */
async function chaos(config, gid) {
  await until(
    () =>
      cluster.leaderOf(gid) !== undefined &&
      ((cluster.applied.get(gid) ?? 0) >= config.num || now() - config.at >= KILL_WITHIN_MS),
  );
  const kill = await cluster.killLeader(gid, acked(), config);
  say(
    `SIGKILLed ${kill.node.name} (pid ${kill.pid}), leader of group ${gid} in term ${kill.term}, ` +
      `${Math.round(kill.at - config.at)} ms after config ${config.num} (${kill.where}), at ${kill.ackedAt} ops`,
  );
  await until(() => acked() >= kill.ackedAt + RESTART_AFTER || workload.allIssued());
  say(`restarting ${kill.node.name} on ${kill.node.dataDir}`);
  await cluster.start(kill.node);
  kill.restartedAt = now();
  kill.restartedAcked = acked();
  say(`${kill.node.name} is back (pid ${kill.node.child.pid})`);
}

/** The steps in order, each after its fraction and once the previous one is in place. */
async function schedule() {
  let killed;
  for (const step of STEPS) {
    await until(() => acked() >= Math.floor(OPS * step.at));
    const config = await cluster.reconfigure(step);
    const placed = cluster.inPlace(config);
    if (step.kill) killed = chaos(config, step.gid).catch(fail); // a failure ends the run at once
    await placed;
  }
  await killed;
}

// ---- the run -------------------------------------------------------------------------------

let ok = false;
/** The progress monitor runs while this is true. */
let running = true;
try {
  say(`data and logs in ${dataRoot}`);
  say(
    `starting ${REPLICAS} controller replicas and groups ${GIDS.join(', ')} of ${REPLICAS} (--maxraftstate ${MAXRAFTSTATE})`,
  );
  await Promise.all(cluster.all().map((node) => cluster.start(node)));
  say(`all ${cluster.all().length} nodes listening: controller on ${ctrlerUrls.join(' ')}`);
  await until(() => [CTRLER, ...GIDS].every((group) => cluster.leaderOf(group) !== undefined));
  await cluster.inPlace(await cluster.reconfigure({ op: 'join', gid: GIDS[0] }));
  clerks = Array.from({ length: CLIENTS }, () => cluster.newClerk());
  workload = createWorkload({
    ops: OPS,
    clerks,
    stopped: () => failure !== undefined,
    onAck: () => bar?.update(acked(), { config: configLabel(), leaders: leaderLabel() }),
    guard,
    now,
  });

  say(
    `${CLIENTS} clerks: ${OPS} operations, 4/5 appends to ${APPEND_KEYS.length} keys over the 10 shards and 1/5 puts to keys of their own`,
  );
  if (FANCY) {
    bars = new cliProgress.MultiBar(
      {
        format:
          ' {bar} {percentage}% | {value}/{total} ops | {rate} ops/s | config {config} | leaders {leaders}',
        barsize: 20,
        hideCursor: true,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    bar = bars.create(OPS, 0, { rate: '0', config: configLabel(), leaders: leaderLabel() });
  }
  const workStart = now();
  // The rate over the last second: on the bar 10 times a second, or as a line every 2 s.
  const monitor = (async () => {
    const window = [{ t: now(), acked: 0 }];
    let lastLine = now();
    while (running) {
      await sleep(100);
      const t = now();
      window.push({ t, acked: acked() });
      while (window.length > 2 && t - window[0].t > 1000) window.shift();
      const rate = Math.round(((acked() - window[0].acked) / (t - window[0].t)) * 1000);
      if (bar !== undefined) {
        bar.update(acked(), {
          rate: String(rate).padStart(4),
          config: configLabel(),
          leaders: leaderLabel(),
        });
      } else if (t - lastLine >= 2000 && running) {
        lastLine = t;
        say(
          `${String(acked()).padStart(String(OPS).length)}/${OPS} ops  ${String(rate).padStart(4)} ops/s  config ${configLabel()}  leaders ${leaderLabel()}`,
        );
      }
    }
  })();

  // A failed step ends the run at once, not only once the workers are done.
  const reconfigured = schedule().catch(fail);
  await guard(workload.run());
  const workMs = now() - workStart;
  const { stats } = workload;
  await guard(reconfigured);
  if (failure !== undefined) throw failure;
  running = false;
  await monitor;
  bar?.update(acked());
  stopBar();
  say(
    `all ${OPS} operations acknowledged in ${seconds(workMs)} (${Math.round((OPS / workMs) * 1000)} ops/s); ` +
      `longest pause between acknowledgements ${Math.round(stats.stallMs)} ms (from ${seconds(stats.stallAt)})`,
  );

  // The restarted replica rejoins: a follower of its group's current leader, in its term.
  const { kill } = cluster;
  const rejoined = () => {
    const current = cluster.leaderOf(kill.node.group);
    const state = kill.node.state;
    return (
      current !== undefined &&
      state !== undefined &&
      state.term === current.term &&
      (state.leaderId === current.node.id || current.node === kill.node)
    );
  };
  await until(rejoined);
  const { role, term } = kill.node.state;
  say(
    `${kill.node.name} rejoined: ${role} in term ${term}, leader ${cluster.leaderOf(kill.node.group).node.name}`,
  );

  const result = await workload.check();
  const last = await cluster.query(-1);
  say(`read back ${result.keys} keys; latest config ${last.num}: ${spread(last.shards)}`);
  const snaps = await Promise.all(
    [CTRLER, ...GIDS].map(
      async (group) =>
        `${group === CTRLER ? 'ctrler' : `g${group}`} ${await cluster.snapshots(group)}`,
    ),
  );
  say(`newest snapshots (per replica): ${snaps.join(', ')}`);
  if (result.problems.length === 0) {
    ok = true;
    const { configs } = cluster;
    const walked = configs.slice(1);
    const moved = walked.reduce((n, config) => n + config.moves.length, 0);
    const placed = walked.map((config) => config.inPlaceAt - config.at);
    say(
      `check passed: ${stats.acked} operations acknowledged; ${result.appendsFound}/${stats.appends} appends verified ` +
        `(each exactly once, in per-clerk order, in ${APPEND_KEYS.length} keys over 10 shards); ` +
        `${result.putsFound}/${stats.puts} puts verified`,
    );
    say(
      `configs ${configs[0].num} to ${configs.at(-1).num} walked (${configs.map((config) => config.what).join(', ')}): ` +
        `${moved} shards moved between groups, each config in place ${(Math.min(...placed) / 1000).toFixed(1)}-${seconds(Math.max(...placed))} after it was made`,
    );
    say(
      `the kill: ${kill.node.name}, leader of group ${kill.node.group}, ${cluster.migrationAtKill()}; ` +
        `new leader ${kill.newLeader ?? '(none seen)'} after ${Math.round((kill.newLeaderAt ?? kill.at) - kill.at)} ms; ` +
        `restarted ${seconds(kill.restartedAt - kill.at)} later; leader changes in all: ${cluster.stats.leaderChanges}`,
    );
    say(`every acknowledged write is present; ${seconds(now())} in all`);
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
  say(
    `acknowledged ${acked()}/${OPS} operations; config ${configLabel()}; leaders ${leaderLabel()}`,
  );
  for (const node of cluster.all()) {
    // Besides the `raft state` lines (the leaders are above); not after Ctrl-C.
    const lines = node.tail.filter((line) => !line.includes('"msg":"raft state"'));
    if (lines.length === 0 || reason.exitCode > 1) continue;
    say(`last lines of ${node.name}'s log:`);
    for (const line of lines.slice(-6)) say(`  ${line}`);
  }
} finally {
  clearTimeout(deadline);
  stopBar();
  if (cluster.notes.size > 0 || clerkWarnings > 0) {
    say(
      `warnings: ${clerkWarnings} from the clerks' connections; from the nodes:${cluster.notes.size === 0 ? ' none' : ''}`,
    );
    for (const note of cluster.notes.values()) {
      say(
        `  ${note.count}× from ${[...note.names].sort().join(' ')}, first at ${seconds(note.at)}: ${note.line}`,
      );
    }
  }
  // Never wait on a clerk for long: the cluster may be gone.
  const closing = [...clerks.map((clerk) => clerk.close()), cluster.closeCtrler()];
  await Promise.race([Promise.all(closing), sleep(2000)]);
  const signal = ok ? 'SIGTERM' : 'SIGKILL';
  const ended = await cluster.stopAll(signal);
  const notZero = ended.filter((node) => node.how !== 0 && node.how !== 'down');
  if (ok && notZero.length > 0) {
    say(
      `not every node exited 0 on SIGTERM: ${notZero.map((node) => `${node.name} ${node.how}`).join(', ')}`,
    );
  }
  await rm(dataRoot, { recursive: true, force: true });
  const down = ended.filter((node) => node.how === 'down').map((node) => node.name);
  say(
    `${ended.length - down.length} nodes stopped with ${signal}${down.length > 0 ? ` (${down.join(', ')} already down)` : ''}; ${dataRoot} removed`,
  );
}
process.exit(ok ? 0 : (failure?.exitCode ?? 1));
