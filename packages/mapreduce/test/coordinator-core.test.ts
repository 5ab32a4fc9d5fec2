import { describe, expect, it } from 'vitest';
import { type Assignment, CoordinatorCore, type MapInput } from '../src/coordinator-core.js';
import { UnknownTaskError } from '../src/index.js';

const STATS = { inputBytes: 10, records: 2, keys: 2, outputBytes: 20 };
const inputs = (n: number): MapInput[] =>
  Array.from({ length: n }, (_, i) => ({ filename: `f${i}`, path: `/in/f${i}`, bytes: 10 }));
const core = (files = 2, nReduce = 2, maxTaskFailures = 3): CoordinatorCore =>
  new CoordinatorCore({ inputs: inputs(files), nReduce, taskTimeoutMs: 10_000, maxTaskFailures });

function task(a: Assignment | 'wait' | 'exit'): Assignment {
  if (typeof a === 'string') throw new Error(`expected a task, got ${a}`);
  return a;
}

describe('CoordinatorCore: the coordinator as a state machine', () => {
  it('hands out every map task, then (only after all are done) the reduce tasks, then exit', () => {
    const c = core(2, 3);
    const m0 = task(c.assign(0));
    const m1 = task(c.assign(0));
    expect([m0, m1].map((t) => [t.kind, t.taskId, t.attempt])).toEqual([
      ['map', 0, 1],
      ['map', 1, 1],
    ]);
    expect(c.assign(0)).toBe('wait');
    expect(c.complete('map', 0, 1, STATS)).toBe(true);
    // One map still running: no reduce yet.
    expect(c.assign(1)).toBe('wait');
    expect(c.complete('map', 1, 1, STATS)).toBe(true);
    expect(c.phase).toBe('reduce');
    const reduces = [task(c.assign(2)), task(c.assign(2)), task(c.assign(2))];
    expect(reduces.map((t) => `${t.kind} ${t.taskId}`)).toEqual([
      'reduce 0',
      'reduce 1',
      'reduce 2',
    ]);
    for (const r of reduces) expect(c.complete('reduce', r.taskId, 1, STATS)).toBe(true);
    expect(c.phase).toBe('done');
    expect(c.assign(3)).toBe('exit');
    expect(c.counts()).toMatchObject({ mapDone: 2, reduceDone: 3, reassigned: 0, bytesMapped: 20 });
  });

  it('hands a task out again exactly when its 10 s deadline passes, not before', () => {
    const c = core(1, 1);
    expect(task(c.assign(1000)).attempt).toBe(1);
    expect(c.nextDeadline()).toBe(11_000);
    expect(c.assign(10_999)).toBe('wait');
    const again = task(c.assign(11_000));
    expect([again.taskId, again.attempt]).toEqual([0, 2]);
    expect(c.counts().reassigned).toBe(1);
  });

  it('takes the first completion of a reassigned task; the other is redundant', () => {
    const c = core(1, 1);
    task(c.assign(0));
    task(c.assign(10_000)); // attempt 2, after a timeout
    expect(c.complete('map', 0, 1, STATS)).toBe(true); // the slow first attempt finishes first
    expect(c.complete('map', 0, 2, STATS)).toBe(false);
    expect(c.counts()).toMatchObject({ mapDone: 1, duplicates: 1, bytesMapped: 10 });
  });

  it('retries a failed task at once and fails the job on the third failure', () => {
    const c = core(1, 1, 3);
    const error = { code: 'ERR_APP', message: 'boom' };
    for (let attempt = 1; attempt <= 3; attempt++) {
      const t = task(c.assign(0));
      expect([t.taskId, t.attempt]).toEqual([0, attempt]);
      expect(c.fail('map', 0, attempt, error, 'w1')).toBe(true);
      if (attempt < 3) expect(c.phase).toBe('map');
    }
    expect(c.phase).toBe('failed');
    expect(c.failure).toEqual({ kind: 'map', taskId: 0, filename: 'f0', ...error, workerId: 'w1' });
    expect(c.assign(0)).toBe('exit');
    // Reports after the end change nothing.
    expect(c.complete('map', 0, 3, STATS)).toBe(false);
  });

  it('an old attempt failing does not free a task a newer attempt is running', () => {
    const c = core(1, 1);
    task(c.assign(0));
    task(c.assign(10_000));
    expect(c.fail('map', 0, 1, { code: 'X', message: 'late' }, 'w')).toBe(true);
    expect(c.status('map', 0)).toEqual({ status: 'running', attempts: 2 });
    expect(c.assign(10_001)).toBe('wait');
  });

  it('rejects reports of tasks or attempts never handed out', () => {
    const c = core(1, 1);
    expect(() => c.complete('map', 5, 1, STATS)).toThrow(UnknownTaskError);
    expect(() => c.complete('map', 0, 1, STATS)).toThrow(/attempt 1 was never handed out/);
    expect(() => c.complete('reduce', 0, 1, STATS)).toThrow(UnknownTaskError);
    task(c.assign(0));
    expect(() => c.complete('map', 0, 2, STATS)).toThrow(UnknownTaskError);
  });

  it('with no input files goes straight to reduce (empty outputs)', () => {
    const c = core(0, 2);
    expect(c.phase).toBe('reduce');
    expect(task(c.assign(0)).kind).toBe('reduce');
  });
});
