import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run.js';
import { writeStorm } from './support/pathological.js';

const dir = mkdtempSync(join(tmpdir(), 'lincheck-cli-'));

function file(name: string, data: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data));
  return path;
}

function run(...args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runCli(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

const okKv = [
  { clientId: 0, input: { op: 'put', key: 'k', value: 'a' }, call: 0, return: 1 },
  { clientId: 1, input: { op: 'get', key: 'k' }, call: 2, output: 'a', return: 3 },
];
const staleKv = [okKv[0], { ...okKv[1], output: '' }];

describe('flotilla-lincheck', () => {
  it('exits 0 for a linearizable history', () => {
    const r = run(file('ok.json', okKv));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^linearizable: 2 operations in 1 partition/);
  });

  it('exits 1 for an illegal one, writing HTML and JSON on request', () => {
    const html = join(dir, 'bad.html');
    const json = join(dir, 'bad.json');
    const r = run(file('stale.json', staleKv), '--model', 'kv', '--html', html, '--json', json);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/NOT linearizable/);
    expect(r.out).toMatch(
      /#1 client 1: get\("k"\) → "" \[2 \.\. 3\]: can never become legal from this state/,
    );
    expect(r.out).toContain(`visualization: ${html}`);
    expect(readFileSync(html, 'utf8')).toContain('NOT linearizable');
    const exported = JSON.parse(readFileSync(json, 'utf8'));
    expect(exported.outcome).toBe('illegal');
    // The JSON export is itself a history file.
    expect(run(json).code).toBe(1);
  });

  it('exits 3 when the time limit runs out', () => {
    const r = run(file('storm.json', writeStorm(40)), '--model', 'register', '--time-limit', '100');
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^unknown \(time limit reached\)/);
  });

  it('reads event lists and the other models', () => {
    const events = [
      { kind: 'call', id: 1, clientId: 0, input: { op: 'cas', from: 5, to: 6 } },
      { kind: 'return', id: 1, output: true },
    ];
    expect(run(file('events.json', events), '--model', 'cas-register', '--initial', '5').code).toBe(
      0,
    );
    expect(run(file('events2.json', { events }), '--model', 'cas-register').code).toBe(1);
    expect(run(file('wrapped.json', { operations: okKv }), '-q').out).toBe('');
  });

  it('exits 2 with the error code for a bad history', () => {
    const r = run(
      file('bad-op.json', [
        { clientId: 0, input: { op: 'get', key: 'k' }, call: 5, return: 1, output: '' },
      ]),
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^flotilla-lincheck: ERR_BAD_HISTORY: at index 0: returns \(1\) before it is called \(5\)/,
    );
    expect(run(file('garbage.json', '{not json')).err).toMatch(/ERR_BAD_HISTORY: not valid JSON/);
    expect(run(file('object.json', { nothing: [] })).err).toMatch(/ERR_BAD_HISTORY/);
  });

  it('exits 2 for usage errors and a missing file', () => {
    expect(run().err).toMatch(/ERR_USAGE: expected exactly one history file/);
    expect(run('a.json', '--model', 'queue').err).toMatch(/ERR_USAGE: unknown model "queue"/);
    expect(run('a.json', '--bogus').err).toMatch(/ERR_USAGE/);
    expect(run('a.json', '--time-limit', 'soon').err).toMatch(/ERR_USAGE: --time-limit/);
    expect(run('a.json', '--initial', '{').err).toMatch(/ERR_USAGE: --initial must be JSON/);
    expect(run(file('x.json', okKv), '--initial', '1').err).toMatch(/register models only/);
    const missing = run(join(dir, 'missing.json'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/ENOENT/);
  });

  it('prints help', () => {
    const r = run('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: flotilla-lincheck <history.json>/);
  });
});
