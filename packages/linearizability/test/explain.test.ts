import { describe, expect, it } from 'vitest';
import {
  checkOperations,
  explainResult,
  formatResult,
  type KvInput,
  type KvOutput,
  kvModel,
  type Operation,
  renderHtml,
  toJson,
} from '../src/index.js';

type Op = Operation<KvInput, KvOutput>;

/** Three keys: "a" illegal (a lost append), "b" and "c" fine; "c" has the most operations. */
function history(): Op[] {
  const ops: Op[] = [
    { clientId: 0, input: { op: 'append', key: 'a', value: 'x' }, call: 0, return: 10 },
    { clientId: 1, input: { op: 'append', key: 'a', value: 'y' }, call: 0, return: 10 },
    { clientId: 2, input: { op: 'get', key: 'a' }, output: 'x', call: 20, return: 30 },
    { clientId: 0, input: { op: 'put', key: 'b', value: '1' }, call: 40, return: 50 },
  ];
  for (let i = 0; i < 4; i++) {
    ops.push({
      clientId: 3,
      input: { op: 'append', key: 'c', value: `${i}` },
      call: i * 10,
      return: i * 10 + 5,
    });
  }
  return ops;
}

describe('explanations on demand', () => {
  it('by default the check stops at the first illegal partition and records no partials', () => {
    const result = checkOperations(kvModel, history());
    expect(result.outcome).toBe('illegal');
    const byKey = new Map(result.partitions.map((p) => [p.key, p]));
    // Smallest partitions first: "b" (1 op), then "a" (3), which stops the check before "c".
    expect(byKey.get('b')).toMatchObject({ outcome: 'ok', searched: true, explained: true });
    expect(byKey.get('a')).toMatchObject({ outcome: 'illegal', searched: true, explained: false });
    expect(byKey.get('a')?.partials).toEqual([]);
    expect(byKey.get('c')).toMatchObject({ outcome: 'unknown', searched: false, steps: 0 });
    expect(formatResult(kvModel, result)).toMatch(/\(1 ok, 1 illegal, 0 unknown, 1 not checked\)/);
  });

  it('explain: true checks every partition and keeps the longest partial linearizations', () => {
    const result = checkOperations(kvModel, history(), { explain: true });
    expect(result.partitions.every((p) => p.searched && p.explained)).toBe(true);
    const a = result.partitions.find((p) => p.key === 'a');
    expect(a?.partials[0]).toHaveLength(2);
    expect(result.partitions.find((p) => p.key === 'c')?.outcome).toBe('ok');
  });

  it('stopOnIllegal: false checks every partition without recording partials', () => {
    const result = checkOperations(kvModel, history(), { stopOnIllegal: false });
    expect(result.partitions.every((p) => p.searched)).toBe(true);
    expect(result.partitions.find((p) => p.key === 'a')?.explained).toBe(false);
  });

  it('explainResult searches an illegal partition again, to the same verdict and steps', () => {
    const plain = checkOperations(kvModel, history());
    const explained = explainResult(kvModel, plain);
    const full = checkOperations(kvModel, history(), { explain: true, stopOnIllegal: true });
    const a = (r: typeof plain) => r.partitions.find((p) => p.key === 'a');
    expect(a(explained)).toEqual(a(full));
    expect(a(explained)?.steps).toBe(a(plain)?.steps);
    // Skipped partitions stay skipped; the result is cached per result object.
    expect(explained.partitions.find((p) => p.key === 'c')?.searched).toBe(false);
    expect(explainResult(kvModel, plain)).toBe(explained);
    expect(explainResult(kvModel, explained)).toBe(explained);
  });

  it('formatResult, toJson and renderHtml explain an unexplained result the same way', () => {
    const plain = checkOperations(kvModel, history());
    const explained = checkOperations(kvModel, history(), { explain: true, stopOnIllegal: true });
    const strip = (text: string) => text.replace(/checked in [\d.]+ ms/, '');
    expect(strip(formatResult(kvModel, plain))).toBe(strip(formatResult(kvModel, explained)));
    expect(formatResult(kvModel, plain)).toContain('the longest linearization covers 2 of 3');
    const json = toJson(kvModel, plain);
    const a = json.partitions.find((p) => p.key === 'a');
    expect(a?.linearization).toHaveLength(2);
    expect(a?.explained).toBe(true);
    expect(renderHtml(kvModel, plain)).toContain('the longest linearization covers 2 of 3');
    expect(renderHtml(kvModel, plain)).toContain('not checked');
  });

  it('an ok history needs no second search', () => {
    const ok = history().filter((op) => op.input.key !== 'a');
    const result = checkOperations(kvModel, ok);
    expect(result.outcome).toBe('ok');
    expect(explainResult(kvModel, result)).toBe(result);
  });
});
