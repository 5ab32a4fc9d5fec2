import { readdirSync, rmSync, writeFileSync } from 'node:fs';

/**
 * The lab's `nparallel`: how many workers of this phase are running right now. Each caller
 * drops a marker `mr-worker-<phase>-<pid>` in the current directory, counts the markers whose
 * pid is alive, sleeps 1 s (so overlapping callers see each other), and removes its marker.
 */
export async function nparallel(phase: 'map' | 'reduce'): Promise<number> {
  const mine = `mr-worker-${phase}-${process.pid}`;
  writeFileSync(mine, 'x');
  const pattern = new RegExp(`^mr-worker-${phase}-(\\d+)$`);
  let running = 0;
  for (const name of readdirSync('.')) {
    const match = pattern.exec(name);
    if (match !== null && isAlive(Number(match[1]))) running++;
  }
  await sleep(1000);
  rmSync(mine, { force: true });
  return running;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Values sorted and joined by spaces (the lab's deterministic reduce). */
export function sortedJoin(values: readonly string[]): string {
  return [...values].sort().join(' ');
}
