/**
 * One Raft server of raft-bench.ts's WebSocket cluster, in its own process (forked by
 * bench-ws.ts with `--import tsx`): a FilePersister in BENCH_DIR, a RaftNode, and a WsServer on
 * 127.0.0.1 exposing the node as service `Raft` plus a small `Bench` service the parent drives
 * load through. Its peers are WsClients, created once the parent sends every server's URL.
 *
 * IPC with the parent:
 *   child → parent   { type: 'listening', port }     the WsServer is up (the node exists)
 *   parent → child   { type: 'peers', urls }         every server's URL, index = server id
 *   child → parent   { type: 'connected' }
 *   parent → child   { type: 'sample', seq }         → { type: 'sample', seq, micros, counters }
 *   parent → child   { type: 'profile-start', seq }  → { type: 'ack', seq }
 *   parent → child   { type: 'profile-stop', seq, file, meta } → writes it → { type: 'ack', seq }
 *   parent → child   { type: 'stop' } or disconnect  → kill the node, close everything, exit 0
 */

import { WindowProfiler } from '@flotilla/devkit/bench/profile';
import {
  type CallResult,
  RpcServer,
  realClock,
  silentLogger,
  stderrLogger,
  systemRandom,
  WsClient,
  WsServer,
} from '@flotilla/transport';
import { FilePersister, type RaftClientEnd, RaftNode } from '../src/index.js';
import {
  ApplyWaiter,
  type Counters,
  countingEnd,
  countingPersister,
  newCounters,
  type ProposeOutcome,
  type RaftKnobs,
} from './bench-common.js';

export interface StatusReply {
  readonly me: number;
  readonly isLeader: boolean;
  readonly term: number;
  readonly leaderId: number | null;
  readonly commitIndex: number;
}

export type ChildMessage =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'connected' }
  | {
      readonly type: 'sample';
      readonly seq: number;
      /** user + system CPU time of this process so far, µs. */
      readonly micros: number;
      readonly counters: Counters;
    }
  | { readonly type: 'ack'; readonly seq: number }
  | { readonly type: 'error'; readonly message: string };

export type ParentMessage =
  | { readonly type: 'peers'; readonly urls: readonly string[] }
  | { readonly type: 'sample'; readonly seq: number }
  | { readonly type: 'profile-start'; readonly seq: number }
  | {
      readonly type: 'profile-stop';
      readonly seq: number;
      readonly file: string;
      readonly meta: Record<string, unknown>;
    }
  | { readonly type: 'stop' };

/** Peer calls that get no answer within this fail, so a stuck peer cannot pin the pipeline. */
const PEER_CALL_TIMEOUT_MS = 2000;

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const me = Number(env('BENCH_ME'));
  const n = Number(env('BENCH_N'));
  const dir = env('BENCH_DIR');
  const authToken = env('BENCH_AUTH_TOKEN');
  const knobs = JSON.parse(env('BENCH_KNOBS')) as RaftKnobs;

  // Peer ends exist from the start; they fail fast until the parent has sent the URLs.
  const clients: (WsClient | undefined)[] = new Array(n).fill(undefined);
  const unconnected: CallResult = { ok: false, code: 'UNREACHABLE' };
  const counters = newCounters();
  const peers: RaftClientEnd[] = Array.from({ length: n }, (_, j) =>
    countingEnd(
      {
        call: (method, args) =>
          clients[j]?.call(method, args, { timeoutMs: PEER_CALL_TIMEOUT_MS }) ??
          Promise.resolve(unconnected),
      },
      counters,
    ),
  );

  const persister = await FilePersister.open(dir);
  const profiler = new WindowProfiler();
  const node = await RaftNode.create({
    me,
    peers,
    persister: countingPersister(persister, counters),
    clock: realClock,
    random: systemRandom,
    logger: stderrLogger,
    ...knobs,
  });
  const waiter = new ApplyWaiter(node);
  let stopping = false;
  // Quiet once stopping: handlers of calls in flight then fail with NodeKilledError.
  const logger = {
    warn: (fields: Record<string, unknown>, message: string): void => {
      if (!stopping) stderrLogger.warn(fields, message);
    },
    info: (fields: Record<string, unknown>, message: string): void => {
      if (!stopping) stderrLogger.info(fields, message);
    },
  };
  const rpcServer = new RpcServer({ logger }).addService('Raft', node.service).addService('Bench', {
    status: (): StatusReply => ({
      me,
      isLeader: node.getState().isLeader,
      term: node.getState().term,
      leaderId: node.leaderId,
      commitIndex: node.commitIndex,
    }),
    propose: (command: unknown): ProposeOutcome | Promise<ProposeOutcome> => {
      if (!(command instanceof Uint8Array)) throw new Error('Bench.propose takes bytes');
      return waiter.propose(command);
    },
  });
  const server = await WsServer.listen({ rpcServer, port: 0, authToken, logger });

  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    node.kill();
    await Promise.all(clients.map((c) => c?.close()));
    await server.close();
    await persister.close();
    process.exit(0);
  };

  process.on('disconnect', () => void stop());
  process.on('message', (raw) => {
    const message = raw as ParentMessage;
    if (message.type === 'peers') {
      message.urls.forEach((url, j) => {
        if (j === me) return;
        // Quiet: a peer that goes away at shutdown is expected.
        clients[j] = new WsClient({ url, authToken, logger: silentLogger });
      });
      void Promise.all(clients.map((c) => c?.ready())).then(() => send({ type: 'connected' }));
    } else if (message.type === 'sample') {
      const { user, system } = process.cpuUsage();
      send({ type: 'sample', seq: message.seq, micros: user + system, counters: { ...counters } });
    } else if (message.type === 'profile-start') {
      void profiler.start().then(() => send({ type: 'ack', seq: message.seq }));
    } else if (message.type === 'profile-stop') {
      const meta = { ...message.meta, role: node.getState().isLeader ? 'leader' : 'follower' };
      void profiler.stop(message.file, meta).then(() => send({ type: 'ack', seq: message.seq }));
    } else if (message.type === 'stop') {
      void stop();
    }
  });
  send({ type: 'listening', port: server.port });
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
