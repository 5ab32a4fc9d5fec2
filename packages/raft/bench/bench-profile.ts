/**
 * Summarizes V8 CPU profiles (`.cpuprofile`, e.g. from `raft-bench.ts --profile DIR` or
 * `node --cpu-prof`): busy time by area (raft core, raft driver, persister, transport, ws,
 * msgpackr, GC, Node internals…) and the functions with the most self time.
 *
 *   tsx bench/bench-profile.ts DIR|FILE… [--top 25] [--commits N]
 *
 * It prints µs per commit too when it knows the commits made while profiling: from `--commits`,
 * or from the `<name>.meta.json` that raft-bench.ts writes beside each profile.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const { values: opts, positionals } = parseArgs({
  options: { top: { type: 'string', default: '25' }, commits: { type: 'string' } },
  allowPositionals: true,
});

/** Where a function lives, coarsely. */
export function area(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    return `native ${functionName}`;
  }
  if (url.includes('/raft/src/core/')) return 'raft core';
  if (url.includes('/raft/src/persister/')) return 'raft persister';
  if (url.includes('/raft/src/node.ts')) return 'raft node driver';
  if (url.includes('/raft/src/')) return 'raft other';
  if (url.includes('/raft/bench/')) return 'bench harness';
  if (url.includes('/transport/src/ws/')) return 'transport ws';
  if (url.includes('/transport/src/sim/')) return 'transport SimNetwork';
  if (url.includes('/transport/src/')) return 'transport other';
  if (url.includes('msgpackr')) return 'msgpackr';
  if (url.includes('/ws/lib/')) return 'ws library';
  if (url.includes('tsx') || url.includes('esbuild')) return 'tsx loader';
  if (url.startsWith('node:')) {
    const m = /^node:(?:internal\/)?([\w-]+)/.exec(url);
    return `node:${m?.[1] ?? '?'}`;
  }
  return 'other';
}

/** The profiles named, and those under each directory named (recursively). */
function files(args: readonly string[]): string[] {
  return args.flatMap((arg) =>
    statSync(arg).isDirectory()
      ? files(
          readdirSync(arg)
            .filter((f) => f.endsWith('.cpuprofile') || statSync(path.join(arg, f)).isDirectory())
            .sort()
            .map((f) => path.join(arg, f)),
        )
      : [arg],
  );
}

function summarize(file: string, top: number, given: number | undefined): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const metaFile = file.replace(/\.cpuprofile$/, '.meta.json');
  const meta = existsSync(metaFile)
    ? (JSON.parse(readFileSync(metaFile, 'utf8')) as Record<string, unknown>)
    : undefined;
  const commits = given ?? (typeof meta?.commits === 'number' ? meta.commits : undefined);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time from sample i-1 to sample i: charge it to sample i.
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let total = 0;
  let idle = 0;
  const areas = new Map<string, number>();
  const functions = new Map<string, { us: number; area: string }>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    total += us;
    const a = area(node.callFrame);
    if (a === 'idle') {
      idle += us;
      continue;
    }
    areas.set(a, (areas.get(a) ?? 0) + us);
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url === '' ? '' : `${url.replace(/^.*\/packages\//, '').replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '')}:${lineNumber + 1}`}`;
    const f = functions.get(key) ?? { us: 0, area: a };
    f.us += us;
    functions.set(key, f);
  }
  const busy = total - idle;
  const pct = (us: number): string => `${((100 * us) / busy).toFixed(1)}%`;
  const perCommit = (us: number): string =>
    commits === undefined ? '' : ` | ${(us / commits).toFixed(1)}`;
  const unit = commits === undefined ? '' : ' | µs/commit';
  const dash = commits === undefined ? '' : '|---';
  console.log(`\n### ${file}${meta === undefined ? '' : ` ${JSON.stringify(meta)}`}`);
  console.log(
    `profiled ${(total / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s (${((100 * busy) / total).toFixed(0)}%)` +
      (commits === undefined
        ? ''
        : `, ${commits} commits: ${(busy / commits).toFixed(1)} busy µs/commit`),
  );
  console.log(`\n| area | busy share${unit} |\n|---|---${dash}|`);
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1])) {
    console.log(`| ${a} | ${pct(us)}${perCommit(us)} |`);
  }
  console.log(`\n| function (self time) | area | busy share${unit} |\n|---|---|---${dash}|`);
  for (const [key, f] of [...functions].sort((x, y) => y[1].us - x[1].us).slice(0, top)) {
    console.log(`| ${key} | ${f.area} | ${pct(f.us)}${perCommit(f.us)} |`);
  }
}

const top = Number(opts.top);
const commits = opts.commits === undefined ? undefined : Number(opts.commits);
const list = files(positionals);
if (list.length === 0) {
  console.error('usage: tsx bench/bench-profile.ts DIR|FILE… [--top 25] [--commits N]');
  process.exit(2);
}
for (const file of list) summarize(file, top, commits);
