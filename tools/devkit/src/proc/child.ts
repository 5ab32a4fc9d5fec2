/**
 * Child processes a bench or a test starts: a registry of everything alive so that any exit
 * path (error, signal, watchdog) can SIGKILL it, bounded waits for an exit and for a line of
 * output, and a liveness check by pid.
 */
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();

/** Registers `child` until it exits, for `killAll`. Returns it. */
export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGKILLs every tracked child still running (synchronous: fit for process 'exit'). */
export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

/** Resolves on the child's exit; SIGKILLs it if it has not exited within `ms`. */
export function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Reads the child's stdout (which must be a pipe) until `pattern` matches what it has printed
 * so far, e.g. /^listening (ws:\/\/\S+)$/m, and resolves with the match. Rejects if the child
 * exits first or `ms` passes. Afterwards stdout keeps draining, so the child never blocks on a
 * full pipe.
 */
export function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  ms: number,
  what = 'the child',
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`${what} did not print ${pattern} within ${ms} ms`)),
      ms,
    );
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(new Error(`${what} exited (${code ?? signal}) before printing ${pattern}`));
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      const match = pattern.exec(out);
      if (match === null) return;
      done();
      child.stdout?.resume(); // keep draining anything else it prints
      resolve(match);
    };
    const done = (): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout?.off('data', onData);
    };
    const fail = (err: Error): void => {
      done();
      reject(err);
    };
    child.once('exit', onExit);
    child.stdout?.on('data', onData);
  });
}

/** True when a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
