/** The worker side of the stress runner's pool: runs each task it is sent, quietly. */
import { parentPort } from 'node:worker_threads';
import { loadScenarios } from './registry.js';

export interface Task {
  readonly name: string;
  readonly seed: number;
}

export interface Outcome extends Task {
  readonly ok: boolean;
  readonly error?: string;
  readonly virtualMs?: number;
}

export function firstLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.split('\n')[0] ?? text;
}

/** Loads the registry at `registryUrl`, then answers every task with its outcome. */
export async function serveStress(registryUrl: string): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('stress worker without a parent port');
  const byName = new Map((await loadScenarios(registryUrl)).map((s) => [s.name, s]));
  port.on('message', async (task: Task) => {
    const scenario = byName.get(task.name);
    let outcome: Outcome;
    try {
      if (scenario === undefined) throw new Error(`no scenario ${task.name}`);
      const report = await scenario.run(task.seed, { quiet: true });
      outcome = { ...task, ok: true, virtualMs: report.virtualMs };
    } catch (err) {
      outcome = { ...task, ok: false, error: firstLine(err) };
    }
    port.postMessage(outcome);
  });
}
