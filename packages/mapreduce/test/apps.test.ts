import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachWord } from '../src/apps/words.js';
import { type App, AppLoadError, indexer, loadApp, runSequential, wc } from '../src/index.js';
import { runMapTask, runReduceTask } from '../src/tasks.js';
import { APPS_DIR } from './support/procs.js';

const words = (text: string): string[] => {
  const out: string[] = [];
  forEachWord(text, (w) => out.push(w));
  return out;
};

describe('words: maximal runs of Unicode letters', () => {
  it('splits on everything that is not a letter', () => {
    expect(words("Hello, wörld! 𝒜bc x1y it's ΑΒΓ 漢字 -- ")).toEqual([
      'Hello',
      'wörld',
      '𝒜bc',
      'x',
      'y',
      'it',
      's',
      'ΑΒΓ',
      '漢字',
    ]);
    expect(words('')).toEqual([]);
    expect(words('\ud800a\udc00')).toEqual(['a']); // lone surrogates are not letters
  });

  it('agrees with /\\p{L}+/gu on any text', () => {
    const text = fc.string({
      unit: fc.oneof(
        fc.constantFrom('a', 'Z', ' ', '.', 'é', 'ß', '1', '😀', '𝒜', '\u0301'),
        fc.string({ unit: 'binary', maxLength: 1 }),
        fc.constantFrom('\ud800', '\udc00'),
      ),
    });
    fc.assert(
      fc.property(text, (t) => {
        expect(words(t)).toEqual(t.match(/\p{L}+/gu) ?? []);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('built-in apps', () => {
  it('wc: map returns pairs when not given emit; reduce and combine sum', () => {
    expect(wc.map('f', 'a b a', undefined)).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: '1' },
      { key: 'a', value: '1' },
    ]);
    expect(wc.reduce('a', ['1', '1', '1'])).toBe('3');
    expect(wc.reduce('a', ['40', '2'])).toBe('42');
  });

  it('indexer: one pair per distinct word; reduce counts and sorts the files', () => {
    expect(indexer.map('f1', 'x y x', undefined)).toEqual([
      { key: 'x', value: 'f1' },
      { key: 'y', value: 'f1' },
    ]);
    expect(indexer.reduce('x', ['f2', 'f1'])).toBe('2 f1,f2');
  });
});

describe('loadApp', () => {
  it('finds built-ins by name and modules by path', async () => {
    expect((await loadApp('wc')).source).toBe('builtin:wc');
    const loaded = await loadApp(join(APPS_DIR, 'nocrash.ts'));
    expect(loaded.source).toBe(join(APPS_DIR, 'nocrash.ts'));
    expect(typeof loaded.app.reduce).toBe('function');
  });

  it('says what is wrong, with ERR_APP_LOAD', async () => {
    await expect(loadApp('./nope.js', '/tmp')).rejects.toMatchObject({
      code: 'ERR_APP_LOAD',
      message:
        'cannot load app "./nope.js": no such file (/tmp/nope.js); built-in apps are wc, indexer',
    });
    await expect(loadApp('toString')).rejects.toBeInstanceOf(AppLoadError);
    await expect(loadApp(APPS_DIR)).rejects.toThrow(/is not a file/);
    await expect(loadApp(join(APPS_DIR, 'no-reduce.ts'))).rejects.toThrow(
      /must export functions map and reduce .*it exports: map/,
    );
  });
});

describe('distributed data path == sequential runner', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flotilla-mr-apps-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Map tasks, then reduce tasks, in this process; the concatenated sorted output. */
  async function distributed(app: App, files: string[], nReduce: number): Promise<string[]> {
    for (const [taskId, filename] of files.entries()) {
      await runMapTask(app, { taskId, filename, path: join(dir, filename), nReduce, dir });
    }
    const lines: string[] = [];
    for (let taskId = 0; taskId < nReduce; taskId++) {
      await runReduceTask(app, { taskId, nMap: files.length, dir });
      lines.push(...(await readFile(join(dir, `mr-out-${taskId}`), 'utf8')).split('\n'));
    }
    return lines.filter(Boolean).sort();
  }

  it('for wc (with its combiner) and indexer, on random texts and nReduce', async () => {
    const text = fc.string({
      unit: fc.constantFrom('a', 'b', 'ab', 'ba', ' ', '\n', '\t', 'é', 'the ', '\\', '1'),
      maxLength: 300,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(text, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 5 }),
        async (texts, nReduce) => {
          const files = texts.map((_, i) => `in-${i}.txt`);
          await Promise.all(texts.map((t, i) => writeFile(join(dir, files[i] as string), t)));
          for (const app of [wc as App, indexer as App]) {
            const seq = await runSequential({
              app,
              files,
              baseDir: dir,
              outFile: join(dir, 'seq'),
            });
            const expected = (await readFile(seq.outFile, 'utf8'))
              .split('\n')
              .filter(Boolean)
              .sort();
            expect(await distributed(app, files, nReduce)).toEqual(expected);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
