// Word count over the eight Gutenberg texts in data/gutenberg/ with @flotilla/mapreduce:
// `flotilla-mapreduce run` starts a coordinator and worker processes and shows a progress bar;
// then this script prints the most frequent words and checks the output against the
// sequential runner (the lab's mrsequential). Exit 0 when they agree.
//   pnpm --filter @flotilla/example-wordcount start            (builds, then runs)
//   node examples/wordcount/run.mjs [--workers 3] [--nreduce 10]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    nreduce: { type: 'string', default: '10' },
  },
});
const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, 'data', 'gutenberg');
const outDir = join(here, 'out');
const packageDir = dirname(
  createRequire(import.meta.url).resolve('@flotilla/mapreduce/package.json'),
);
const cli = join(packageDir, 'dist', 'cli.js');
if (!existsSync(cli)) {
  console.error(`${cli} is missing: build first (pnpm --filter @flotilla/mapreduce... build)`);
  process.exit(1);
}

const inputs = (await readdir(dataDir)).filter((name) => name.endsWith('.txt')).sort();
await rm(outDir, { recursive: true, force: true });
await mkdir(join(outDir, 'sequential'), { recursive: true });

/** Runs the CLI with the terminal attached (so the progress bar shows); resolves with its exit code. */
function mapreduce(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

console.log(
  `word count: ${inputs.length} books, ${opts.workers} workers, ${opts.nreduce} reduce tasks\n`,
);
const files = inputs.map((name) => join(dataDir, name));
const code = await mapreduce([
  'run',
  '--app',
  'wc',
  '--workers',
  opts.workers,
  '--nreduce',
  opts.nreduce,
  '--dir',
  outDir,
  '--progress',
  ...files,
]);
if (code !== 0) process.exit(code);

const lines = async (dir, prefix) => {
  const out = [];
  for (const name of (await readdir(dir)).filter((n) => n.startsWith(prefix))) {
    out.push(...(await readFile(join(dir, name), 'utf8')).split('\n').filter(Boolean));
  }
  return out.sort();
};
const counts = await lines(outDir, 'mr-out-');
const top = counts
  .map((line) => line.split(' '))
  .sort((a, b) => Number(b[1]) - Number(a[1]))
  .slice(0, 10);
console.log(`\n${counts.length} distinct words; the most frequent:`);
for (const [word, count] of top) console.log(`  ${word.padEnd(8)} ${count.padStart(7)}`);

// The oracle: the same app, one process, no combiner.
const seqCode = await mapreduce([
  'sequential',
  '--app',
  'wc',
  '--out',
  join(outDir, 'sequential', 'mr-out-0'),
  ...files,
]);
if (seqCode !== 0) process.exit(seqCode);
const expected = await lines(join(outDir, 'sequential'), 'mr-out-');
const same = expected.length === counts.length && expected.every((line, i) => line === counts[i]);
console.log(
  same ? 'identical to the sequential runner ✓' : 'DIFFERENT from the sequential runner ✗',
);
console.log(`output: ${outDir}/mr-out-0 … mr-out-${Number(opts.nreduce) - 1}`);
process.exit(same ? 0 : 1);
