import { describe, expect, it } from 'vitest';
import type { RaftClientEnd } from '../src/env.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import { RefusedSends, sendOutcome } from '../src/refused-sends.js';
import { makeNode, recordingLogger, turns } from './support/node-fixtures.js';

/** A peer whose every call ends as `answer` (or rejects with it, when it is an Error). */
function peer(answer: { ok: false; code: string; message?: string } | Error): RaftClientEnd {
  return {
    call: () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)),
  };
}

/** Runs node 0 of three for `ms` of virtual time with the given peers; returns its log lines. */
async function run(peers: [RaftClientEnd, RaftClientEnd], ms: number) {
  const logger = recordingLogger();
  const { clock, node } = makeNode(new MemoryPersister(), {
    peers: [null, ...peers],
    logger,
    // Campaigns again and again: RequestVote to both peers every election timeout.
    preVote: false,
  });
  const started = await node;
  for (let t = 0; t < ms; t += 50) {
    clock.advance(50);
    await turns(5);
  }
  await started.close();
  return logger.lines.filter((line) => line.message === 'raft: peer call refused');
}

describe('refused peer calls are logged once, never retried in silence', () => {
  it('a send the end rejects (frame too large) is one line with its cause, however often it recurs', async () => {
    const tooLarge = Object.assign(new Error('frame of 9 bytes exceeds the limit of 8 bytes'), {
      code: 'ERR_FRAME_TOO_LARGE',
    });
    const lines = await run([peer(tooLarge), peer({ ok: false, code: 'TIMEOUT' })], 10_000);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toMatchObject({
      to: 1,
      method: 'RequestVote',
      cause: 'ERR_FRAME_TOO_LARGE: frame of 9 bytes exceeds the limit of 8 bytes',
    });
  });

  it('a peer answering REPLY_TOO_LARGE is logged once; network losses are not logged', async () => {
    const lines = await run(
      [
        peer({ ok: false, code: 'REPLY_TOO_LARGE', message: 'reply of 20 MiB' }),
        peer({ ok: false, code: 'UNREACHABLE' }),
      ],
      10_000,
    );
    expect(lines.map((line) => line.fields.cause)).toEqual(['REPLY_TOO_LARGE: reply of 20 MiB']);
  });

  it('classifies outcomes: answered, lost, refused (incl. a reply of the wrong shape)', () => {
    expect(sendOutcome({ ok: true, reply: {} }, true)).toEqual({ kind: 'answered' });
    expect(sendOutcome({ ok: true, reply: 7 }, false).kind).toBe('refused');
    for (const code of [
      'DROPPED',
      'TIMEOUT',
      'UNREACHABLE',
      'CONNECTION_LOST',
      'CLOSED',
      'OVERLOADED',
    ])
      expect(sendOutcome({ ok: false, code } as never, false)).toEqual({ kind: 'lost' });
    for (const code of [
      'AUTH_FAILED',
      'UNKNOWN_METHOD',
      'BAD_ARGUMENTS',
      'HANDLER_ERROR',
      'BAD_FRAME',
    ])
      expect(sendOutcome({ ok: false, code } as never, false)).toEqual({
        kind: 'refused',
        reason: code,
        cause: code,
      });
  });

  it('an answer to the same method re-arms the report, so a later refusal is logged again', () => {
    const logger = recordingLogger();
    const refused = new RefusedSends(0, logger);
    const x = { reason: 'X', cause: 'X: 1' };
    refused.refused(1, 'AppendEntries', x);
    refused.refused(1, 'AppendEntries', { reason: 'X', cause: 'X: 2' });
    refused.refused(2, 'AppendEntries', x);
    refused.answered(1, 'AppendEntries');
    refused.refused(1, 'AppendEntries', x);
    expect(logger.lines.map((line) => line.fields.to)).toEqual([1, 2, 1]);
  });

  it('answers to other methods do not re-arm it: a refused snapshot is one line while heartbeats are answered', () => {
    const logger = recordingLogger();
    const refused = new RefusedSends(0, logger);
    for (let attempt = 0; attempt < 50; attempt++) {
      // The frame's size differs by a byte or so per attempt; the reason does not.
      refused.refused(1, 'InstallSnapshot', {
        reason: 'ERR_FRAME_TOO_LARGE',
        cause: `ERR_FRAME_TOO_LARGE: frame of ${456_540 + attempt} bytes`,
      });
      refused.answered(1, 'AppendEntries');
    }
    expect(logger.lines.map((line) => line.fields.method)).toEqual(['InstallSnapshot']);
  });
});
