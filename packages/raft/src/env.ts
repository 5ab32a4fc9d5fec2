/**
 * What the node needs from its surroundings, declared structurally so that raft depends on no
 * transport: `@flotilla/transport`'s ClientEnd, Clock and Random fit these shapes as they are.
 */

/**
 * One peer's end of the RPC link. Must settle exactly once, with a reply or with `ok: false`
 * (a `code` saying why, as transport's no-reply codes do, lets the node tell a refusal it
 * logs from a loss it just retries).
 */
export interface RaftClientEnd {
  call(
    method: string,
    args: unknown,
  ): Promise<{
    readonly ok: boolean;
    readonly reply?: unknown;
    readonly code?: string;
    readonly message?: string;
  }>;
}

export interface RaftClock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(timer: unknown): void;
}

export interface RaftRandom {
  /** An integer in [0, n). */
  int(n: number): number;
}

export interface RaftLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}
