/** What the lab's end-of-test line reports, counted from `begin()`. */
export interface EndStats {
  /** Elapsed virtual time (the lab: real time). */
  readonly seconds: number;
  /** Servers in the test (the lab's `cfg.n`; summed over a world's clusters). */
  readonly peers: number;
  /** RPCs sent on the network. */
  readonly rpcs: number;
  /** Clerk Get/Put/Append calls completed through counted clerks. */
  readonly ops: number;
}

/** kvraft's `end()`: `"  ... Passed --"` then `"  %4.1f  %d %5d %4d"`. */
export function passedLine(stats: EndStats): string {
  const seconds = stats.seconds.toFixed(1).padStart(4);
  const rpcs = String(stats.rpcs).padStart(5);
  const ops = String(stats.ops).padStart(4);
  return `  ... Passed --  ${seconds}  ${stats.peers} ${rpcs} ${ops}`;
}
