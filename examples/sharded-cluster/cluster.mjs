// The processes of the sharded-cluster demo: three `flotilla-shardctrler serve` replicas and
// three groups of three `flotilla-shardkv serve` replicas on free loopback ports, each with its
// data dir (WAL + snapshots, fsync on every save) and log file under one temp dir; who leads
// each Raft cluster (from the replicas' `raft state` log lines); and stopping them by pid.
// Node names: `ctrler-I` for controller replica I, `gG-I` for replica I of group G.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { connectClerk as connectCtrler } from '@flotilla/shardctrler';
import { connectClerk } from '@flotilla/shardkv';
import { SHARD_KEYS } from './workload.mjs';

export const CTRLER = 'ctrler';

const require = createRequire(import.meta.url);
const binOf = (pkg) => join(dirname(require.resolve(`${pkg}/package.json`)), 'dist/cli.js');
const CTRLER_CLI = binOf('@flotilla/shardctrler');
const SHARDKV_CLI = binOf('@flotilla/shardkv');

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

/** "100×4 101×3 102×3": how many shards each group serves. */
export function spread(shards) {
  const counts = new Map();
  for (const gid of shards) counts.set(gid, (counts.get(gid) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a - b)
    .map(([gid, n]) => `${gid}×${n}`)
    .join(' ');
}

/**
 * The cluster's nodes, none started yet. `clerkLogger` goes to the clerks' connections, `say`
 * prints an event line, `fail` ends the run, `guard` races a promise against the run's
 * failure, `now` is the demo's clock (ms).
 */
export async function createCluster({ dataRoot, token, gids, replicas, maxraftstate, ...io }) {
  const { clerkLogger, say, fail, guard, now } = io;
  const groups = [CTRLER, ...gids];
  const ports = await freePorts(groups.length * replicas);
  /** group → its nodes, by id: { name, group, id, url, dataDir, child, state, tail }. */
  const nodes = new Map(
    groups.map((group, g) => [
      group,
      Array.from({ length: replicas }, (_, id) => {
        const name = group === CTRLER ? `ctrler-${id}` : `g${group}-${id}`;
        return {
          name,
          group,
          id,
          url: `ws://127.0.0.1:${ports[g * replicas + id]}`,
          dataDir: join(dataRoot, name),
          logFile: join(dataRoot, `${name}.log`),
          child: undefined, // the live process, or undefined while it is down
          state: undefined, // its latest `raft state` line: { term, role, leaderId }
          tail: [], // the last lines it wrote on stderr, for a failure report
        };
      }),
    ]),
  );
  const all = () => [...nodes.values()].flat();
  const urlsOf = (group) => nodes.get(group).map((node) => node.url);
  /** The leader each group had at its last `raft state` line: { id, term }. */
  const leaders = new Map();
  /** Warnings and errors the nodes logged: msg → { count, names, line, at }. */
  const notes = new Map();
  const stats = { leaderChanges: 0 };
  /** The latest configuration each group's leader applied: gid → num. */
  const applied = new Map();
  /** The shards groups finished pulling: { gid, shard, from, handoff, at }. */
  const received = [];
  /** The SIGKILL: { node, pid, term, at, ackedAt, newLeaderAt, newLeader }. */
  let kill;

  /** The live node of `group` that says it leads, at the highest term. */
  function leaderOf(group) {
    let best;
    for (const node of nodes.get(group)) {
      if (node.child === undefined || node.state?.role !== 'leader') continue;
      if (best === undefined || node.state.term > best.term) best = { node, term: node.state.term };
    }
    return best;
  }

  function onRaftState(group) {
    const next = leaderOf(group);
    const previous = leaders.get(group);
    if (next === undefined || (previous?.id === next.node.id && previous.term === next.term))
      return;
    leaders.set(group, { id: next.node.id, term: next.term });
    let line = `${next.node.name} leads ${group === CTRLER ? 'the controller' : `group ${group}`} (term ${next.term})`;
    if (previous !== undefined) {
      if (previous.id !== next.node.id) stats.leaderChanges++;
      line += `, was ${group === CTRLER ? 'ctrler' : `g${group}`}-${previous.id} (term ${previous.term})`;
    }
    if (kill?.node.group === group && kill.newLeaderAt === undefined && next.node !== kill.node) {
      kill.newLeaderAt = now();
      kill.newLeader = next.node.name;
      line += `, ${Math.round(kill.newLeaderAt - kill.at)} ms after the kill`;
    }
    say(line);
  }

  function onLine(node, line) {
    appendFileSync(node.logFile, `${line}\n`);
    node.tail.push(line);
    if (node.tail.length > 20) node.tail.shift();
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      // A crash's stack trace, say: one note for all such lines, the first one shown.
      entry = { level: 'error', msg: '(not a JSON line)' };
    }
    if (entry.msg === 'raft state') {
      node.state = { term: entry.term, role: entry.role, leaderId: entry.leaderId };
      onRaftState(node.group);
      return;
    }
    // A group's leader logs each configuration it applied and each shard it finished pulling.
    if (entry.msg === 'shardkv: configuration applied') {
      applied.set(entry.gid, Math.max(applied.get(entry.gid) ?? 0, entry.config));
      return;
    }
    if (entry.msg === 'shardkv: shard received') {
      const { gid, shard, from, handoff, items } = entry;
      received.push({ gid, shard, from, handoff, at: now() });
      say(`g${gid} has shard ${shard} from g${from} (config ${handoff}, ${items} items)`);
      return;
    }
    // Other events (a stale lock removed after the SIGKILL, a torn write cut) as they happen;
    // connection errors, expected while a node is down or not up yet, only in the summary.
    if (entry.msg !== 'ws client: connection error') say(`${node.name}: ${line}`);
    if (entry.level === 'info') return;
    const note = notes.get(entry.msg);
    if (note === undefined)
      notes.set(entry.msg, { count: 1, names: new Set([node.name]), line, at: now() });
    else {
      note.count++;
      note.names.add(node.name);
    }
  }

  /** Starts `node` on its data dir; resolves once it prints "listening". */
  function start(node) {
    const args =
      node.group === CTRLER
        ? [CTRLER_CLI, 'serve', '--id', String(node.id), '--peers', urlsOf(CTRLER).join(',')]
        : [
            SHARDKV_CLI,
            'serve',
            '--gid',
            String(node.group),
            '--id',
            String(node.id),
            '--peers',
            urlsOf(node.group).join(','),
            '--ctrlers',
            urlsOf(CTRLER).join(','),
          ];
    args.push('--data-dir', node.dataDir, '--maxraftstate', String(maxraftstate));
    const child = spawn(process.execPath, args, {
      // The token goes through the environment, so it does not show in `ps`.
      env: { ...process.env, FLOTILLA_AUTH_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.expectedExit = false;
    node.child = child;
    node.state = undefined;
    createInterface({ input: child.stderr }).on('line', (line) => onLine(node, line));
    return guard(
      new Promise((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          if (line.startsWith('listening ')) resolve(child);
        });
        child.once('error', reject);
        child.once('exit', (code, signal) => {
          if (node.child === child) {
            node.child = undefined;
            node.state = undefined;
          }
          child.exitedWith = signal ?? code;
          const why = `${node.name} (pid ${child.pid}) exited with ${signal ?? `code ${code}`}`;
          reject(new Error(why));
          if (!child.expectedExit) fail(new Error(`${why} unexpectedly`));
        });
      }),
    );
  }

  /** Stops `node` with `signal` (SIGKILL after 3 s if it is still there); resolves once it is gone. */
  async function stop(node, signal) {
    const { child } = node;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.expectedExit = true;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  /**
   * SIGKILLs the leader of `group` (it must have one) while it takes on `config`; returns the
   * kill's record, with `where` it was in that config's migration.
   */
  async function killLeader(group, ackedAt, config) {
    const { node, term } = leaderOf(group);
    const { pid } = node.child;
    await stop(node, 'SIGKILL');
    const gaining = config.moves.filter((move) => move.to === group).length;
    const arrived = received.filter((got) => got.gid === group && got.handoff === config.num);
    const where =
      (applied.get(group) ?? 0) >= config.num
        ? `it applied config ${config.num} and pulls: ${arrived.length} of its ${gaining} new shards in`
        : `before it applied config ${config.num}`;
    kill = { node, pid, term, at: now(), ackedAt, config, where };
    return kill;
  }

  /** Where the kill fell in its group's migration: the shards it gains, by their arrival. */
  function migrationAtKill() {
    const { config } = kill;
    const gaining = config.moves.filter((move) => move.to === kill.node.group);
    const arrivals = gaining.map(
      (move) =>
        received.find(
          (got) => got.gid === move.to && got.shard === move.shard && got.handoff === config.num,
        )?.at ?? config.inPlaceAt, // (no `shard received` line seen: when the probe read it)
    );
    const late = arrivals.filter((at) => at > kill.at).length;
    if (late === 0)
      return `after the ${gaining.length} shards config ${config.num} gave it arrived`;
    return (
      `mid-migration: ${late} of the ${gaining.length} shards config ${config.num} gave it arrived after the kill, ` +
      `the last ${Math.round(Math.max(...arrivals) - kill.at)} ms after it`
    );
  }

  /** Each cluster's leader: "ctrler-0 g100-1 g101-2 g102-?" (? while electing). */
  const leaderLabel = () =>
    groups
      .map((group) => leaderOf(group)?.node.name ?? (group === CTRLER ? 'ctrler-?' : `g${group}-?`))
      .join(' ');
  /** "3 (at 3/3/2)": the latest config, and the one each group's leader applied (by gid). */
  const configLabel = () =>
    `${configs.at(-1)?.num ?? 0} (at ${gids.map((gid) => applied.get(gid) ?? 0).join('/')})`;

  /** Stops every node (`signal`, SIGKILL 3 s later); lists how each ended. */
  async function stopAll(signal) {
    const stopping = all().map((node) => [node, node.child]);
    await Promise.all(all().map((node) => stop(node, signal)));
    return stopping.map(([node, child]) => ({
      name: node.name,
      how: child === undefined ? 'down' : child.exitedWith,
    }));
  }

  /** At process exit: SIGKILL whatever is still running, by pid, synchronously. */
  function killAllNow() {
    for (const node of all()) {
      if (node.child?.exitCode === null && node.child.signalCode === null) {
        node.child.kill('SIGKILL');
      }
    }
  }

  /** The newest snapshot of each node of `group`: "#seq" per node and the largest size. */
  async function snapshots(group) {
    const found = await Promise.all(
      nodes.get(group).map(async (node) => {
        const names = await readdir(node.dataDir).catch(() => []);
        const snap = names
          .filter((name) => /^snapshot-\d+\.snap$/.test(name))
          .sort()
          .pop();
        if (snap === undefined) return { seq: '-', size: 0 };
        const { size } = await stat(join(node.dataDir, snap));
        return { seq: `#${Number(snap.slice(9, -5))}`, size };
      }),
    );
    const largest = Math.max(...found.map((snap) => snap.size));
    if (largest === 0) return 'none';
    return `${found.map((snap) => snap.seq).join('/')} (${(largest / 1024).toFixed(1)} KiB)`;
  }

  // ---- the controller: joins and leaves, and when their shards are in place ----------------

  /** A clerk of the sharded service (the caller closes it). */
  const newClerk = () => connectClerk(urlsOf(CTRLER), { authToken: token, logger: clerkLogger });
  /** The configurations this run made: { num, what, shards, at, moves: [{ shard, from, to }], inPlaceAt }. */
  const configs = [];
  let ctrler;
  const controller = () => {
    ctrler ??= connectCtrler(urlsOf(CTRLER), { authToken: token, logger: clerkLogger });
    return ctrler;
  };

  /** Joins or leaves `step.gid` (under its nodes' urls); prints the new config and its moves. */
  async function reconfigure(step) {
    const num =
      step.op === 'join'
        ? await guard(controller().join({ [step.gid]: urlsOf(step.gid) }))
        : await guard(controller().leave([step.gid]));
    const at = now();
    const { shards } = await guard(controller().query(num));
    const before = configs.at(-1)?.shards ?? new Array(10).fill(0);
    const moves = shards
      .map((to, shard) => ({ shard, from: before[shard], to }))
      .filter((move) => move.from !== move.to);
    const config = { num, what: `${step.op} ${step.gid}`, shards, at, moves };
    configs.push(config);
    const paths = new Map();
    for (const { shard, from, to } of moves) {
      const path = from === 0 ? `to ${to}` : `${from}→${to}`;
      paths.set(path, [...(paths.get(path) ?? []), shard]);
    }
    const moved = [...paths].map(([path, list]) => `${path}: ${list.join(',')}`).join('; ');
    say(`config ${num} (${config.what}): ${spread(shards)}; shards ${moved}`);
    return config;
  }

  /**
   * Resolves once every shard `config` moved is served by its new group: a fresh clerk (it
   * reads the latest config) gets a key of each; the new group answers ErrWrongGroup until it
   * has the shard, and the clerk tries again.
   */
  async function inPlace(config) {
    const probe = newClerk();
    try {
      for (const { shard } of config.moves) await guard(probe.get(SHARD_KEYS[shard]));
    } finally {
      await probe.close();
    }
    config.inPlaceAt = now();
    say(
      `config ${config.num} in place: ${config.moves.length} shard(s) served by their new group ` +
        `${Math.round(config.inPlaceAt - config.at)} ms after it was made`,
    );
  }

  return {
    nodes,
    all,
    urlsOf,
    leaderOf,
    notes,
    stats,
    get kill() {
      return kill;
    },
    start,
    stop,
    killLeader,
    migrationAtKill,
    leaderLabel,
    configLabel,
    stopAll,
    killAllNow,
    snapshots,
    newClerk,
    configs,
    applied,
    received,
    reconfigure,
    inPlace,
    query: (num) => guard(controller().query(num)),
    closeCtrler: () => ctrler?.close(),
  };
}
