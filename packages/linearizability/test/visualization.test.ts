import { describe, expect, it } from 'vitest';
import {
  checkOperations,
  explainPartition,
  type KvInput,
  type KvOutput,
  kvModel,
  type Operation,
  type ResultJson,
  renderHtml,
  toJson,
} from '../src/index.js';
import { kvHistory, randomSpecs } from './support/histories.js';

type Op = Operation<KvInput, KvOutput>;

const history: Op[] = [
  { clientId: 0, input: { op: 'put', key: 'x', value: '1' }, call: 0, return: 10 },
  { clientId: 1, input: { op: 'append', key: 'x', value: '2' }, call: 12, return: 15 },
  { clientId: 2, input: { op: 'get', key: 'x' }, call: 20, output: '1', return: 30 }, // lost update
  { clientId: 3, input: { op: 'put', key: 'y', value: '<script>alert(1)</script>' }, call: 0 },
  { clientId: 0, input: { op: 'get', key: 'y' }, call: 40, output: '', return: 50 },
];

function embeddedJson(html: string): ResultJson {
  const m = /<script type="application\/json" id="lincheck-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new Error('no embedded data');
  return JSON.parse(m[1] as string) as ResultJson;
}

describe('explanation', () => {
  it('finds the operations that could not go next, and why', () => {
    const result = checkOperations(kvModel, history);
    const x = result.partitions.find((p) => p.key === 'x');
    if (!x) throw new Error('no partition x');
    const report = explainPartition(kvModel, result, x);
    expect(report.linearization.map((s) => [s.index, s.stateAfter])).toEqual([
      [0, '"1"'],
      [1, '"12"'],
    ]);
    expect(report.stuck).toEqual([
      {
        index: 2,
        verdict: 'unreachable',
        detail: `it is missing the value's last 1 character: "…2"`,
      },
    ]);
  });
});

describe('HTML visualization', () => {
  const result = checkOperations(kvModel, history);
  const html = renderHtml(kvModel, result, { title: 'kv test' });

  it('is self-contained: no network, no external resources', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<link\b|@import|\bsrc=|url\(\s*['"]?https?:/i);
    const urls = html.match(/https?:\/\/[^\s"'<>)]+/g) ?? [];
    // Only the SVG namespace name, which is never fetched.
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg']));
  });

  it('shows the verdict, each partition, the failing operation and where it broke', () => {
    expect(html).toContain('<title>kv test: NOT linearizable</title>');
    expect(html).toContain('key &quot;x&quot;');
    expect(html).toContain('key &quot;y&quot;');
    expect(html).toContain('Where it breaks');
    expect(html).toMatch(/<g class="op stuck unreachable" data-index="2">/);
    expect(html).toMatch(/<g class="op lin" data-index="0">/);
    expect(html).toMatch(/<g class="op lin pending" data-index="3">/);
    expect(html).toContain('class="stuck-mark unreachable"');
    expect(html).toContain('class="lin-path"');
    // The illegal partition comes first and open; ok ones are collapsed.
    expect(html.indexOf('id="p0"')).toBeLessThan(html.indexOf('id="p1"'));
    expect(html).toMatch(/<section class="partition illegal" id="p0"><details open>/);
    expect(html).toMatch(/<section class="partition ok" id="p1"><details>/);
  });

  it('escapes values', () => {
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // Inside the embedded JSON too.
    expect(html).not.toMatch(/<\/script>alert/);
  });

  it('embeds the JSON export', () => {
    const data = embeddedJson(html);
    expect(data.format).toBe('flotilla-linearizability/1');
    expect(data.outcome).toBe('illegal');
    expect(data.model).toBe('kv');
  });

  it('renders a linearizable history of a thousand operations', () => {
    const ops = kvHistory(
      randomSpecs(1, { clients: 20, opsPerClient: 50, keys: 3, pendingRate: 0.02 }),
    );
    const ok = checkOperations(kvModel, ops);
    expect(ok.outcome).toBe('ok');
    const page = renderHtml(kvModel, ok);
    expect(page).toContain('badge ok');
    expect((page.match(/<g class="op /g) ?? []).length).toBe(1000);
  });
});

describe('JSON export', () => {
  const result = checkOperations(kvModel, history);
  const data = toJson(kvModel, result);

  it('is plain JSON: unknown returns are null', () => {
    const text = JSON.stringify(data);
    expect(JSON.parse(text)).toEqual(data);
    expect(data.operations[3]).toMatchObject({
      index: 3,
      return: null,
      description: 'put("y", "<script>alert(1)</script>")',
    });
    expect(data.operations[2]).toMatchObject({ output: '1', description: 'get("x") → "1"' });
  });

  it('describes each partition with its linearization and stuck operations', () => {
    expect(data.partitions.map((p) => [p.key, p.outcome, p.linearization.length, p.stuck])).toEqual(
      [
        [
          'x',
          'illegal',
          2,
          [
            {
              index: 2,
              verdict: 'unreachable',
              detail: `it is missing the value's last 1 character: "…2"`,
            },
          ],
        ],
        ['y', 'ok', 2, []],
      ],
    );
  });

  it('its operations re-check to the same answer', () => {
    const again = checkOperations(kvModel, data.operations as unknown as Op[]);
    expect(again.outcome).toBe('illegal');
    expect(again.partitions.map((p) => p.outcome)).toEqual(result.partitions.map((p) => p.outcome));
  });
});
