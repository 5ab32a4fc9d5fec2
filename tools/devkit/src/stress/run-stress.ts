/**
 * Runs a suite's lab scenarios over many seeds (a package's `stress` script):
 *
 *   stress --seeds 500 [--only Name[,Name…]] [--jobs 2] [--from 1] [--timeout-ms 120000]
 *
 * Seeds `from … from+seeds-1` for every scenario of the registry (or those named by --only:
 * exact names, or a regular expression), spread over `jobs` worker threads, each task limited
 * to `timeout-ms` of wall time. Prints a line per scenario, every failure with its scenario,
 * seed and first line of error, and a summary; exit code 1 on any failure, 2 on bad arguments.
 * The registry is a module exporting `scenarios` (registry.ts); run under tsx.
 */
import { parseStressArgs, selectScenarios } from './args.js';
import { Pool } from './pool.js';
import { loadScenarios } from './registry.js';
import type { Outcome, Task } from './worker.js';

export type { StressScenario, StressScenarioOptions } from './registry.js';

/** The whole run; resolves to its exit code (0: every run passed, 1: some failed). */
export async function runStress(
  registryUrl: string | URL,
  argv: readonly string[],
): Promise<number> {
  const url = String(registryUrl);
  const options = parseStressArgs(argv);
  const registry = (await loadScenarios(url)).map((s) => s.name);
  const names = selectScenarios(registry, options.only);
  // Every registry name fits the column, so one suite's lines line up whatever --only says.
  const width = Math.max(...registry.map((n) => n.length)) + 1;
  if (process.env.FLOTILLA_SEED) {
    console.log(
      `stress: ignoring FLOTILLA_SEED=${process.env.FLOTILLA_SEED} (seeds come from --from/--seeds)`,
    );
    // Workers copy this environment when they start: none may see the replay seed.
    delete process.env.FLOTILLA_SEED;
  }
  const last = options.from + options.seeds - 1;
  console.log(
    `stress: ${names.length} scenario(s) × seeds ${options.from}..${last}, ${options.jobs} job(s)`,
  );
  const started = performance.now();
  const pool = new Pool(options.jobs, options.timeoutMs, url);
  const failures: Outcome[] = [];
  try {
    for (const name of names) {
      const t0 = performance.now();
      const tasks: Task[] = [];
      for (let seed = options.from; seed <= last; seed++) tasks.push({ name, seed });
      let maxVirtualMs = 0;
      let failed = 0;
      await pool.runAll(tasks, (outcome) => {
        if (outcome.ok) {
          maxVirtualMs = Math.max(maxVirtualMs, outcome.virtualMs ?? 0);
          return;
        }
        failed++;
        failures.push(outcome);
        console.log(`  FAIL ${outcome.name} seed ${outcome.seed}: ${outcome.error}`);
      });
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      const status = failed === 0 ? 'ok  ' : 'FAIL';
      console.log(
        `${status} ${name.padEnd(width)} ${tasks.length - failed}/${tasks.length} passed` +
          `  ${seconds.padStart(6)} s wall, max ${(maxVirtualMs / 1000).toFixed(1)} s virtual`,
      );
    }
  } finally {
    await pool.close();
  }

  const total = names.length * options.seeds;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failures.length > 0) {
    console.log('\nfailures:');
    for (const f of failures) console.log(`  ${f.name} seed ${f.seed}: ${f.error}`);
  }
  console.log(
    `\nstress: ${total - failures.length}/${total} runs passed, ${failures.length} failed ` +
      `(${names.length} scenario(s) × ${options.seeds} seed(s), ${seconds} s)`,
  );
  return failures.length === 0 ? 0 : 1;
}

/** `runStress` on this process's arguments; sets the exit code (2: an error outside the runs). */
export function stressMain(registryUrl: string | URL): void {
  runStress(registryUrl, process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 2;
    },
  );
}
