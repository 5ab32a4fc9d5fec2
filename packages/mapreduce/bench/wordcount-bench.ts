/**
 * Word count on a ~50 MB synthetic corpus: @flotilla/mapreduce with 1 and 2 workers, measured
 * in the same run as its anchors — the shell pipeline `tr -cs A-Za-z '\n' | LC_ALL=C sort |
 * uniq -c` and the single-thread Node baselines of ../shared/bench/wordcount.mjs (relative to
 * the repository root) — with every output checked equal.
 *
 *   pnpm bench                      # builds, then: tsx bench/wordcount-bench.ts
 *   tsx bench/wordcount-bench.ts [--mb 50] [--files 8] [--seed 42] [--repeats 5]
 *                                [--wait-idle 30] [--max-seconds 900] [--json] [--corpus DIR]
 *                                [--shared-bench DIR]
 *
 * Each variant is timed end to end as a process (for ours: the `flotilla-mapreduce run`
 * command, coordinator and worker start-up included) and reported as input MiB/s, the median
 * over the repeats. The repeats interleave the variants so drift hits all of them. Before each
 * repeat it waits up to --wait-idle seconds for other work on the machine to drop below 15% of
 * the CPUs, and prints the load it saw. Ours runs the built CLI (dist/cli.js): what users run.
 *
 * Targets: 2 workers ≥ 1.5 × the LC_ALL=C shell pipeline, and ≥ 1.6 × our own 1 worker.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { positive } from '@flotilla/devkit/bench/args';
import { waitForIdle } from '@flotilla/devkit/bench/cpu';
import { median } from '@flotilla/devkit/bench/stats';
import { markdownTable } from '@flotilla/devkit/bench/table';
import { SHARED_BENCH_DIR } from '@flotilla/devkit/paths';
import { runMain, watchdog } from '@flotilla/devkit/proc/main';
import { runToEnd } from '@flotilla/devkit/proc/procs';

const TARGET_VS_SHELL = 1.5;
const TARGET_VS_ONE_WORKER = 1.6;
const IDLE_BELOW_PCT = 15;

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(packageDir, '../..');
const gutenbergDir = path.join(repoRoot, 'examples/wordcount/data/gutenberg');
const cli = path.join(packageDir, 'dist/cli.js');

const { values: opts } = parseArgs({
  options: {
    mb: { type: 'string', default: '50' },
    files: { type: 'string', default: '8' },
    seed: { type: 'string', default: '42' },
    repeats: { type: 'string', default: '5' },
    'wait-idle': { type: 'string', default: '30' },
    'max-seconds': { type: 'string', default: '900' },
    corpus: { type: 'string' },
    'shared-bench': { type: 'string', default: SHARED_BENCH_DIR },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});

const sharedBench = path.resolve(opts['shared-bench']);

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

interface Variant {
  readonly key: string;
  readonly label: string;
  readonly command: string;
  readonly args: (files: readonly string[], out: string) => string[];
  /** Reads the variant's output as sorted `word count` lines. */
  readonly output: (out: string) => Promise<string[]>;
}

interface Run {
  readonly kind: 'run';
  readonly variant: string;
  readonly repeat: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly mbPerSec: number;
  readonly backgroundBusyPct: number;
}

/**
 * Runs a command to completion (stdout unread; the watchdog bounds it); resolves with wall
 * seconds from spawn to exit. Rejects on a non-zero exit.
 */
async function timed(command: string, args: readonly string[], cwd: string): Promise<number> {
  const r = await runToEnd(command, args, {
    cwd,
    stdout: 'ignore',
    limitMs: Number.POSITIVE_INFINITY,
  });
  if (r.code !== 0) {
    throw new Error(
      `${command} ${args.slice(0, 3).join(' ')} … exited ${r.signal ?? r.code}: ${r.stderr}`,
    );
  }
  return r.ms / 1000;
}

async function sortedLines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean).sort();
}

/** The corpus: ../shared/bench/gen-corpus.mjs, or (without it) the Gutenberg texts repeated. */
async function corpus(haveShared: boolean): Promise<string[]> {
  const mb = positive('mb', opts.mb);
  const nFiles = positive('files', opts.files);
  const dir =
    opts.corpus ??
    path.join(
      os.tmpdir(),
      `flotilla-mr-bench-corpus-${mb}mb-${nFiles}f-${opts.seed}${haveShared ? '' : '-gutenberg'}`,
    );
  const list = async () =>
    (await readdir(dir).catch(() => [] as string[]))
      .filter((name) => name.endsWith('.txt'))
      .sort()
      .map((name) => path.join(dir, name));
  let files = await list();
  if (files.length >= nFiles || opts.corpus !== undefined) return files;
  await mkdir(dir, { recursive: true });
  if (haveShared) {
    log(`generating a ${mb} MB corpus in ${dir} (../shared/bench/gen-corpus.mjs)`);
    await timed(
      process.execPath,
      [path.join(sharedBench, 'gen-corpus.mjs'), dir, String(mb), String(nFiles), opts.seed],
      dir,
    );
  } else {
    log(`building a ${mb} MB corpus in ${dir} from the Gutenberg texts, repeated`);
    const texts = await Promise.all(
      (await readdir(gutenbergDir))
        .filter((n) => n.endsWith('.txt'))
        .sort()
        .map((n) => readFile(path.join(gutenbergDir, n), 'utf8')),
    );
    const perFile = (mb * 1048576) / nFiles;
    for (let f = 0; f < nFiles; f++) {
      const parts: string[] = [];
      for (let size = 0, i = f; size < perFile; i++) {
        const text = texts[i % texts.length] as string;
        parts.push(text);
        size += text.length;
      }
      await writeFile(path.join(dir, `pg-repeat-${f}.txt`), parts.join(''));
    }
  }
  files = await list();
  return files;
}

function variants(haveShared: boolean): Variant[] {
  const ours = (workers: number): Variant => ({
    key: `mapreduce-${workers}`,
    label: `flotilla-mapreduce run, ${workers} worker${workers > 1 ? 's' : ''}`,
    command: process.execPath,
    args: (files, out) => [
      cli,
      'run',
      '--json',
      '--no-progress',
      '--app',
      'wc',
      '--workers',
      String(workers),
      '--dir',
      out,
      ...files,
    ],
    output: async (out) => {
      const lines: string[] = [];
      for (const name of (await readdir(out)).filter((n) => n.startsWith('mr-out-'))) {
        lines.push(...(await readFile(path.join(out, name), 'utf8')).split('\n').filter(Boolean));
      }
      return lines.sort();
    },
  });
  const shell: Variant = {
    key: 'shell-C',
    label: "tr -cs A-Za-z '\\n' | LC_ALL=C sort | uniq -c",
    command: 'bash',
    args: (files, out) => [
      '-c',
      `cat ${files.map((f) => `'${f}'`).join(' ')} | tr -cs A-Za-z '\\n' | LC_ALL=C sort | uniq -c > '${out}/out.txt'`,
    ],
    // "   count word" → "word count"; the empty word (input starting with a non-letter) dropped.
    output: async (out) =>
      (await readFile(`${out}/out.txt`, 'utf8'))
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter((parts) => parts.length === 2)
        .map(([count, word]) => `${word} ${count}`)
        .sort(),
  };
  const baseline = (mode: string, label: string): Variant => ({
    key: `wordcount-${mode}`,
    label,
    command: process.execPath,
    args: (files, out) => [
      path.join(sharedBench, 'wordcount.mjs'),
      '--mode',
      mode,
      '--out',
      `${out}/out.txt`,
      ...files,
    ],
    output: (out) => sortedLines(`${out}/out.txt`),
  });
  return [
    shell,
    ...(haveShared
      ? [
          baseline('scan', 'Node byte scanner + Map, 1 thread (wordcount.mjs scan)'),
          baseline('split', 'Node split + Map, 1 thread (wordcount.mjs split)'),
        ]
      : []),
    ours(1),
    ours(2),
  ];
}

async function main(): Promise<void> {
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: run \`pnpm --filter @flotilla/mapreduce... build\` first`);
  const haveShared =
    existsSync(path.join(sharedBench, 'wordcount.mjs')) &&
    existsSync(path.join(sharedBench, 'gen-corpus.mjs'));
  if (!haveShared) {
    log(
      `note: ${sharedBench} is absent: no single-thread Node baselines, and the corpus is the Gutenberg texts repeated; measuring ours and the shell pipeline only`,
    );
  }
  const repeats = positive('repeats', opts.repeats);
  const waitIdle = Number(opts['wait-idle']);
  watchdog(
    positive('max-seconds', opts['max-seconds']) * 1000,
    `benchmark exceeded --max-seconds ${opts['max-seconds']}; stopping`,
  );

  const files = await corpus(haveShared);
  let bytes = 0;
  for (const file of files) bytes += (await stat(file)).size;
  for (const file of files) await readFile(file); // warm the page cache
  log(
    `corpus: ${files.length} files, ${(bytes / 1048576).toFixed(1)} MiB; ${os.cpus().length} CPUs; node ${process.version}`,
  );

  const work = await mkdtemp(path.join(os.tmpdir(), 'flotilla-mr-bench-'));
  const all = variants(haveShared);
  const runs: Run[] = [];
  const outputs = new Map<string, string[]>();
  try {
    for (let repeat = 1; repeat <= repeats; repeat++) {
      const busy = await waitForIdle({ belowPct: IDLE_BELOW_PCT, maxWaitMs: waitIdle * 1000 });
      log(
        `repeat ${repeat}/${repeats} (background CPU load ${busy}%)${busy > IDLE_BELOW_PCT ? ': the machine is not idle; figures will be skewed' : ''}`,
      );
      for (const variant of all) {
        const out = path.join(work, variant.key);
        await rm(out, { recursive: true, force: true });
        await mkdir(out);
        const seconds = await timed(variant.command, variant.args(files, out), out);
        const run: Run = {
          kind: 'run',
          variant: variant.key,
          repeat,
          bytes,
          seconds: Number(seconds.toFixed(3)),
          mbPerSec: Number((bytes / 1048576 / seconds).toFixed(2)),
          backgroundBusyPct: busy,
        };
        runs.push(run);
        if (opts.json) console.log(JSON.stringify(run));
        log(
          `  ${variant.label.padEnd(58)} ${seconds.toFixed(2).padStart(6)} s  ${run.mbPerSec.toFixed(1).padStart(6)} MB/s`,
        );
        if (repeat === 1) outputs.set(variant.key, await variant.output(out));
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  // Every variant must produce the same counts.
  const reference = outputs.get('shell-C') ?? [];
  const checks = all.map((v) => {
    const lines = outputs.get(v.key) ?? [];
    const ok =
      lines.length > 0 &&
      lines.length === reference.length &&
      lines.every((line, i) => line === reference[i]);
    return { kind: 'check', variant: v.key, equalToShell: ok, lines: lines.length };
  });

  const mbps = (key: string) =>
    median(runs.filter((r) => r.variant === key).map((r) => r.mbPerSec));
  const shell = mbps('shell-C');
  const one = mbps('mapreduce-1');
  const two = mbps('mapreduce-2');
  const vsShell = two / shell;
  const vsOne = two / one;
  const lines = [
    ...markdownTable(
      ['variant', `MB/s (median of ${repeats})`, '× shell (LC_ALL=C)'],
      all.map((v) => [
        v.label.replaceAll('|', '\\|'),
        mbps(v.key).toFixed(1),
        (mbps(v.key) / shell).toFixed(2),
      ]),
    ),
    '',
    `2 workers vs the shell pipeline: ${vsShell.toFixed(2)}× (target ≥ ${TARGET_VS_SHELL}×) ${vsShell >= TARGET_VS_SHELL ? 'MET' : 'MISSED'}`,
    `2 workers vs 1 worker:           ${vsOne.toFixed(2)}× (target ≥ ${TARGET_VS_ONE_WORKER}×) ${vsOne >= TARGET_VS_ONE_WORKER ? 'MET' : 'MISSED'}`,
    `outputs equal: ${
      checks.every((c) => c.equalToShell)
        ? 'yes'
        : `NO (${checks
            .filter((c) => !c.equalToShell)
            .map((c) => c.variant)
            .join(', ')})`
    }`,
    `max background CPU load seen before a repeat: ${Math.max(...runs.map((r) => r.backgroundBusyPct))}%`,
  ];
  if (opts.json) {
    for (const check of checks) console.log(JSON.stringify(check));
    console.log(
      JSON.stringify({
        kind: 'summary',
        bytes,
        repeats,
        shell,
        oneWorker: one,
        twoWorkers: two,
        vsShell,
        vsOneWorker: vsOne,
      }),
    );
  } else {
    console.log(lines.join('\n'));
  }
  if (!checks.every((c) => c.equalToShell)) process.exitCode = 1;
}

runMain(main);
