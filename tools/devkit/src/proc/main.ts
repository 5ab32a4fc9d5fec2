/**
 * The life of a bench's main process: whatever way it ends (done, error, Ctrl-C, SIGTERM, its
 * own watchdog), the children it started are killed and nothing is left running.
 */
import { killAll } from './child.js';

/**
 * Runs `main` and exits: with process.exitCode (0 unless main set it) when it resolves, 1 when
 * it rejects (the error printed), 130 on a signal, after `cleanup` (default: SIGKILL every
 * tracked child). `cleanup` also runs on any other exit, so it must be synchronous.
 */
export function runMain(
  main: () => Promise<void>,
  options: {
    readonly cleanup?: () => void;
    readonly signals?: readonly NodeJS.Signals[];
  } = {},
): void {
  const cleanup = options.cleanup ?? killAll;
  process.on('exit', cleanup);
  for (const signal of options.signals ?? (['SIGINT', 'SIGTERM'] as const)) {
    process.on(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  main().then(
    () => process.exit(),
    (err: unknown) => {
      console.error(err);
      cleanup();
      process.exit(1);
    },
  );
}

/**
 * Bounds the whole run: past `ms`, prints `message` to stderr, SIGKILLs every tracked child and
 * exits 2 (a run far over its budget means something hangs). Does not keep the process alive;
 * clearTimeout it when done.
 */
export function watchdog(ms: number, message: string): NodeJS.Timeout {
  const timer = setTimeout(() => {
    process.stderr.write(`${message}\n`);
    killAll();
    process.exit(2);
  }, ms);
  timer.unref();
  return timer;
}
