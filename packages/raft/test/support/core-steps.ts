/**
 * Driving one core by hand, the way node.ts drives it: take a Ready, persist it, advance; step
 * an RPC and take its reply; tick until a campaign; win an election; acknowledge appends.
 */

import type { RaftArgs, RaftMethod, RaftReplies } from '../../src/core/messages.js';
import type { RaftCore } from '../../src/core/raft.js';
import type { OutgoingRequest, Ready } from '../../src/core/ready.js';
import type { MemoryPersister } from '../../src/persister/memory-persister.js';
import { ELECTION_TICKS } from './core-config.js';
import { ok } from './core-fixtures.js';

let nextRequestId = 1_000_000;

/**
 * Runs the driver's cycle once: takes a Ready, saves its `persist` to `persister` if given,
 * and advances past it (as if it was all done).
 */
export function cycle(core: RaftCore, persister?: MemoryPersister): Ready {
  const ready = core.ready();
  if (persister !== undefined && ready.persist !== undefined) persister.save(ready.persist);
  core.advance(ready);
  return ready;
}

/** Steps one incoming RPC and takes the Ready holding its reply (persisted to `persister`). */
export function deliver<M extends RaftMethod>(
  core: RaftCore,
  method: M,
  args: RaftArgs[M],
  persister?: MemoryPersister,
): { reply: RaftReplies[M]; ready: Ready } {
  const requestId = nextRequestId++;
  core.stepRequest(method, args, requestId);
  const ready = cycle(core, persister);
  const out = ready.replies.find((r) => r.requestId === requestId);
  if (out === undefined) throw new Error(`no reply for ${method} in the Ready`);
  return { reply: out.reply as RaftReplies[M], ready };
}

/** Every request of a Ready: those that may leave before its persist, then the others. */
export function allRequests(ready: Ready): OutgoingRequest[] {
  return [...ready.requestsBeforePersist, ...ready.requests];
}

/** The requests of a Ready (both lists) by method and (optionally) destination. */
export function requestsOf<M extends RaftMethod>(
  ready: Ready | readonly OutgoingRequest[],
  method: M,
  to?: number,
): OutgoingRequest<M>[] {
  const list = Array.isArray(ready) ? ready : allRequests(ready as Ready);
  return (list as readonly OutgoingRequest[]).filter(
    (r): r is OutgoingRequest<M> => r.method === method && (to === undefined || r.to === to),
  );
}

/** AppendEntries that carry entries (as opposed to heartbeats). */
export function dataAppends(ready: Ready | readonly OutgoingRequest[], to?: number) {
  return requestsOf(ready, 'AppendEntries', to).filter((r) => r.args.entries.length > 0);
}

/** Ticks `core` until it campaigns; returns the Ready carrying its RequestVotes. */
export function tickUntilCampaign(
  core: RaftCore,
  persister?: MemoryPersister,
  limit = 2 * ELECTION_TICKS,
): Ready {
  const term = core.term;
  for (let i = 0; i < limit; i++) {
    core.tick();
    if (core.term > term) return cycle(core, persister);
  }
  throw new Error(`core ${core.me} did not campaign within ${limit} ticks`);
}

/**
 * Makes `core` the leader of a new term by granting it every vote; returns the Ready holding
 * its first AppendEntries (one probe per follower).
 */
export function electLeader(core: RaftCore): Ready {
  const campaign = tickUntilCampaign(core);
  for (const request of requestsOf(campaign, 'RequestVote')) {
    core.stepResponse(request, { term: core.term, voteGranted: true });
  }
  if (!core.isLeader) throw new Error(`core ${core.me} did not win`);
  return cycle(core);
}

/**
 * Answers the leader's probe to `peer` (found in `ready`) with success, putting that follower
 * into replicate state; returns the Ready that follows.
 */
export function ackProbe(core: RaftCore, ready: Ready, peer: number): Ready {
  const probe = requestsOf(ready, 'AppendEntries', peer).at(-1);
  if (probe === undefined) throw new Error(`no AppendEntries to ${peer}`);
  core.stepResponse(probe, ok(core.term));
  return cycle(core);
}

/** Answers AppendEntries with success, one by one. */
export function ackAll(
  core: RaftCore,
  requests: readonly OutgoingRequest<'AppendEntries'>[],
): void {
  for (const request of requests) core.stepResponse(request, ok(request.args.term));
}
