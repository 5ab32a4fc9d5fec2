import { describe, expect, it } from 'vitest';
import { type Logger, RpcServer, rateLimitedLogger, VirtualClock } from '../src/index.js';

function capture(): Logger & {
  lines: Array<{ fields: Record<string, unknown>; message: string }>;
} {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  return {
    lines,
    warn: (fields, message) => lines.push({ fields, message }),
    info: (fields, message) => lines.push({ fields, message }),
  };
}

describe('log rate limiting', () => {
  it('passes at most N lines a second and reports how many it dropped', () => {
    const clock = new VirtualClock();
    const sink = capture();
    const log = rateLimitedLogger(sink, clock, 3);
    for (let i = 0; i < 10; i++) log.warn({ i }, 'line');
    expect(sink.lines.map((l) => l.fields.i)).toEqual([0, 1, 2]);
    clock.advance(1000);
    log.warn({ i: 10 }, 'line');
    expect(sink.lines.at(-1)?.fields).toEqual({ i: 10, droppedLines: 7 });
  });

  it('a client cannot flood the server log with refused calls', () => {
    const clock = new VirtualClock();
    const sink = capture();
    const server = new RpcServer({ logger: sink, clock, maxLogLinesPerSecond: 5 });
    for (let i = 0; i < 1000; i++) server.dispatch('Nope.nope', null, { peer: 'p' });
    expect(sink.lines).toHaveLength(5);
    expect(server.callCount).toBe(1000);
  });
});
