import type { KvClerk } from '@flotilla/labkit';
import type { ShardKvConfig } from './config.js';

/**
 * The lab's `ff` client goroutines: client i keeps Appending `size` random characters to key
 * i with a clerk of its own, tracking the value in `va[i]`, until `stop()`; `pauseMs` after
 * each Append (0: none, and a turn that took no virtual time is paced instead).
 */
export function startAppenders(
  cfg: ShardKvConfig,
  ka: readonly string[],
  va: string[],
  options: { readonly size: number; readonly pauseMs: number; readonly newClerk?: () => KvClerk },
): { stop(): Promise<void> } {
  let done = false;
  const pacer = cfg.world.pacer();
  const clients = ka.map((key, i) =>
    cfg.world.go(async () => {
      const ck1 = options.newClerk?.() ?? cfg.makeClient();
      while (!done) {
        const x = cfg.world.random.string(options.size);
        await pacer.turn(() => ck1.append(key, x));
        va[i] += x;
        if (options.pauseMs > 0) await cfg.world.sleep(options.pauseMs);
      }
    }),
  );
  return {
    async stop() {
      done = true;
      await Promise.all(clients);
    },
  };
}
