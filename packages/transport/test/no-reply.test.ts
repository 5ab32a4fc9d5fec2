import { describe, expect, it } from 'vitest';
import { isRetryable, isServerAnswer, type NoReplyCode, noReplyKind } from '../src/index.js';

const ALL: readonly NoReplyCode[] = [
  'DROPPED',
  'UNREACHABLE',
  'TIMEOUT',
  'CONNECTION_LOST',
  'CLOSED',
  'OVERLOADED',
  'AUTH_FAILED',
  'UNKNOWN_METHOD',
  'BAD_ARGUMENTS',
  'HANDLER_ERROR',
  'REPLY_TOO_LARGE',
  'BAD_FRAME',
];

describe('the no-reply classification', () => {
  it('sorts every code into lost, unavailable, closed or refused', () => {
    const byKind: Record<string, NoReplyCode[]> = {};
    for (const code of ALL) {
      const kind = noReplyKind(code);
      byKind[kind] = [...(byKind[kind] ?? []), code];
    }
    expect(byKind).toEqual({
      lost: ['DROPPED', 'TIMEOUT'],
      unavailable: ['UNREACHABLE', 'CONNECTION_LOST', 'OVERLOADED'],
      closed: ['CLOSED'],
      refused: [
        'AUTH_FAILED',
        'UNKNOWN_METHOD',
        'BAD_ARGUMENTS',
        'HANDLER_ERROR',
        'REPLY_TOO_LARGE',
        'BAD_FRAME',
      ],
    });
  });

  it('retryable means lost or unavailable', () => {
    expect(ALL.filter(isRetryable)).toEqual([
      'DROPPED',
      'UNREACHABLE',
      'TIMEOUT',
      'CONNECTION_LOST',
      'OVERLOADED',
    ]);
  });

  it('server answers are the codes an ERROR frame may carry, and nothing else', () => {
    expect(ALL.filter(isServerAnswer)).toEqual([
      'OVERLOADED',
      'UNKNOWN_METHOD',
      'BAD_ARGUMENTS',
      'HANDLER_ERROR',
      'REPLY_TOO_LARGE',
      'BAD_FRAME',
    ]);
    for (const value of ['toString', '__proto__', 'constructor', '', 7, null, undefined, {}]) {
      expect(isServerAnswer(value)).toBe(false);
    }
  });
});
