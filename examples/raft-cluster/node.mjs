// One server of a Raft cluster over WebSocket, with its state in a FilePersister directory and a
// small replicated service on top:
//
//   node node.mjs --id 0 --peers ws://127.0.0.1:7101,ws://127.0.0.1:7102,ws://127.0.0.1:7103 \
//                 --data-dir ./data/0 --auth-token T
//
// It listens on the host and port of its own entry in --peers and serves two services:
//   Raft   the node's RPCs (RequestVote, AppendEntries, InstallSnapshot), called by the peers
//   Demo   add({ key, amount, clientId, seq })  increments a counter once per (clientId, seq);
//          get({ key })                          a linearizable read (ReadIndex);
//          status()                              { id, term, isLeader, leaderId, commitIndex, ... }
//
// The auth token may also come from FLOTILLA_AUTH_TOKEN (which keeps it out of `ps`). It prints
// `listening on <url>` once it serves, one line per change of term, role or known leader (from
// RaftNode's onStateChange), and stops cleanly on SIGTERM: the reverse of start, as
// docs/DESIGN.md's Lifecycle asks (peer clients, the RPC server, the node, the persister).
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { FilePersister, RaftNode } from '@flotilla/raft';
import {
  peerClient,
  RpcServer,
  realClock,
  systemRandom,
  validated,
  WsServer,
} from '@flotilla/transport';

const { values: opts } = parseArgs({
  options: {
    id: { type: 'string' },
    peers: { type: 'string' },
    'data-dir': { type: 'string' },
    'auth-token': { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
  strict: true,
});

const peerUrls = (opts.peers ?? '').split(',').filter((url) => url.length > 0);
const me = Number(opts.id);
const dataDir = opts['data-dir'];
const authToken = opts['auth-token'] ?? process.env.FLOTILLA_AUTH_TOKEN;
if (!(Number.isInteger(me) && me >= 0 && me < peerUrls.length) || dataDir === undefined) {
  process.stderr.write(
    'usage: node node.mjs --id <i> --peers <ws-url,ws-url,...> --data-dir <dir> [--auth-token <t>]\n',
  );
  process.exit(2);
}

/** How long Demo.add waits for its entry to be applied, and Demo.get for its read. */
const REQUEST_TIMEOUT_MS = 2000;

const say = (line) => process.stdout.write(`node ${me} | ${line}\n`);
const logger = {
  warn: (fields, message) => {
    // A peer that is down is the normal case while the cluster starts or a node restarts.
    if (!opts.verbose && message === 'ws client: connection error') return;
    process.stderr.write(`node ${me} | warn ${message} ${JSON.stringify(fields)}\n`);
  },
  info: (fields, message) => {
    if (opts.verbose) process.stderr.write(`node ${me} | ${message} ${JSON.stringify(fields)}\n`);
  },
};

// ---- the replicated state machine: counters plus a session table for exactly-once adds -------

/** key → value. */
const counters = new Map();
/** clientId → highest seq applied. A client has one add outstanding at a time. */
const sessions = new Map();
let lastApplied = 0;
/** Adds whose (clientId, seq) had already been applied when their entry was (retries). */
let duplicates = 0;
/** index → callbacks waiting for that index to be applied, called with the entry's term. */
const indexWaiters = new Map();
/** Reads waiting for lastApplied to reach their index. */
let readWaiters = [];

/** Deterministic: a function of the sequence of committed commands only. */
function applyCommand(command) {
  if (command === null || typeof command !== 'object' || command.op !== 'add') return; // no-op
  const { key, amount, clientId, seq } = command;
  if ((sessions.get(clientId) ?? 0) >= seq) {
    duplicates++;
    return;
  }
  sessions.set(clientId, seq);
  counters.set(key, (counters.get(key) ?? 0) + amount);
}

function onApply(msg) {
  if (msg.type === 'snapshot') return; // this demo never snapshots
  // A new leader's no-op changes no counter, but it is applied: reads wait for it, and a
  // proposal waiting on this index learns that another term's entry took it.
  if (msg.type === 'command') applyCommand(msg.command);
  lastApplied = msg.index;
  const waiting = indexWaiters.get(msg.index);
  if (waiting !== undefined) {
    indexWaiters.delete(msg.index);
    for (const callback of waiting) callback(msg.term);
  }
  if (readWaiters.length > 0) {
    const ready = readWaiters.filter((w) => w.index <= lastApplied);
    readWaiters = readWaiters.filter((w) => w.index > lastApplied);
    for (const w of ready) w.resolve();
  }
}

/** A digest of the applied state, to compare replicas. */
function stateDigest() {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([...counters].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  hash.update(JSON.stringify([...sessions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  return hash.digest('hex').slice(0, 16);
}

const timeout = (ms, value) =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve(value), ms);
    timer.unref();
  });

/** Resolves with the term of the entry applied at `index`, or undefined after `ms`. */
function appliedTermAt(index, ms) {
  const applied = new Promise((resolve) => {
    const list = indexWaiters.get(index) ?? [];
    list.push(resolve);
    indexWaiters.set(index, list);
  });
  return Promise.race([applied, timeout(ms, undefined)]);
}

/** Resolves true once lastApplied ≥ index, false after `ms`. */
function appliedThrough(index, ms) {
  if (lastApplied >= index) return Promise.resolve(true);
  const applied = new Promise((resolve) => {
    readWaiters.push({ index, resolve: () => resolve(true) });
  });
  return Promise.race([applied, timeout(ms, false)]);
}

// ---- the node ------------------------------------------------------------------------------

const persister = await FilePersister.open(dataDir).catch((err) => {
  process.stderr.write(`node ${me} | cannot open ${dataDir}: ${err.message}\n`);
  process.exit(2);
});
// peers[me] is never called (the node sends nothing to itself and refuses RPCs that claim to
// come from itself), so our own entry is null. peerClient reconnects within ~100 ms (one
// heartbeat) of a restarted peer listening again, and times calls out after 1 s.
const clients = peerUrls.map((url, j) =>
  j === me ? null : peerClient(url, { authToken, logger }),
);
const node = await RaftNode.create({
  me,
  peers: clients,
  persister,
  clock: realClock,
  random: systemRandom,
  onApply,
  logger,
  // A failed write or fsync (the disk's state is unknown) or a throwing onApply (the counters
  // may be half-updated; ERR_APPLY_LISTENER) stops the node: exit, and let the supervisor
  // restart this server from its data dir.
  onFatal: (err) => {
    say(`raft node stopped (${err?.code ?? 'persist failed'}: ${err?.message ?? err}); exiting`);
    process.exit(1);
  },
});

const isString = (v) => typeof v === 'string' && v.length > 0 && v.length <= 200;
const isAddArgs = (a) =>
  a !== null &&
  typeof a === 'object' &&
  isString(a.key) &&
  Number.isSafeInteger(a.amount) &&
  isString(a.clientId) &&
  Number.isSafeInteger(a.seq) &&
  a.seq > 0;
const isGetArgs = (a) => a !== null && typeof a === 'object' && isString(a.key);

const notLeader = () => ({ ok: false, leaderHint: node.leaderId });

/** Proposes `command` and waits for it to be applied: true if it committed at its index. */
async function replicate(command) {
  const { index, term, isLeader } = node.start(command);
  if (!isLeader) return { ok: false, notLeader: true };
  const appliedTerm = await appliedTermAt(index, REQUEST_TIMEOUT_MS);
  // Another entry at that index (from a later leader) means ours was not committed.
  return { ok: appliedTerm === term, index };
}

let noopInFlight;
/** One no-op per term at a time, so a new leader commits an entry of its own term. */
function commitNoop() {
  if (noopInFlight === undefined) {
    noopInFlight = replicate({ op: 'noop' }).finally(() => {
      noopInFlight = undefined;
    });
  }
  return noopInFlight;
}

const demo = {
  add: validated(isAddArgs, async (args) => {
    if (!node.getState().isLeader) return notLeader();
    // Already applied (a retry whose first attempt committed): acknowledge without a new entry.
    if ((sessions.get(args.clientId) ?? 0) >= args.seq) {
      return { ok: true, duplicate: true, value: counters.get(args.key) ?? 0 };
    }
    const { key, amount, clientId, seq } = args;
    const result = await replicate({ op: 'add', key, amount, clientId, seq });
    if (result.notLeader) return notLeader();
    if (!result.ok) return { ok: false, retry: true };
    return { ok: true, index: result.index, value: counters.get(key) ?? 0 };
  }),

  get: validated(isGetArgs, async (args) => {
    const deadline = performance.now() + REQUEST_TIMEOUT_MS;
    while (performance.now() < deadline) {
      let readIndex;
      try {
        readIndex = await node.readIndex();
      } catch (err) {
        if (err?.code === 'ERR_LEADER_NOT_READY') {
          const noop = await commitNoop();
          if (noop.notLeader) return notLeader();
          continue;
        }
        if (err?.code === 'ERR_NOT_LEADER') return notLeader();
        throw err;
      }
      if (await appliedThrough(readIndex, deadline - performance.now())) {
        return { ok: true, value: counters.get(args.key) ?? 0, readIndex };
      }
    }
    return { ok: false, retry: true };
  }),

  status: () => {
    const { term, isLeader } = node.getState();
    return {
      id: me,
      term,
      isLeader,
      leaderId: node.leaderId,
      commitIndex: node.commitIndex,
      lastApplied,
      duplicates,
      digest: stateDigest(),
    };
  },
};

const rpcServer = new RpcServer({ logger })
  .addService('Raft', node.service)
  .addService('Demo', demo);
const ownUrl = new URL(peerUrls[me]);
const server = await WsServer.listen({
  rpcServer,
  host: ownUrl.hostname,
  port: Number(ownUrl.port),
  authToken,
  logger,
}).catch((err) => {
  process.stderr.write(`node ${me} | cannot listen on ${ownUrl}: ${err.message}\n`);
  process.exit(2);
});
const restored = persister.load();
say(
  `listening on ${server.url} (data ${dataDir}` +
    (restored === undefined
      ? ', fresh)'
      : `, restored term ${restored.hardState.term} with ${restored.entries.length} log entries)`),
);

const describeState = ({ term, role, leaderId }) => {
  if (role === 'leader') return `term ${term}: leader`;
  if (leaderId !== null) return `term ${term}: follower of node ${leaderId}`;
  return `term ${term}: ${role}, no leader`;
};
say(describeState({ term: node.getState().term, role: node.role, leaderId: node.leaderId }));
node.onStateChange((state) => say(describeState(state)));

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  await Promise.all(clients.map((client) => client?.close()));
  await server.close();
  // Rejects reads and RPCs in flight, waits for a persist in flight; the persister stays open.
  await node.close();
  await persister.close();
  say(`stopped (${signal})`);
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
