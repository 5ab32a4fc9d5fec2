import type { ClientEnd, Sim } from '@flotilla/transport';
import { NotLeaderError, type Session } from '../../src/index.js';
import type { KvRsm } from './cluster.js';
import type { KvOp } from './kv-machine.js';

type SubmitReply =
  | { readonly ok: true; readonly result: string }
  | { readonly ok: false; readonly code: string; readonly leaderHint: number | null };

/** The server side of a clerk's call: submit and answer with the result or the error's code. */
export function submitService(server: KvRsm) {
  return {
    Submit: async (args: unknown): Promise<SubmitReply> => {
      const { op, session } = args as { op: KvOp; session: Session };
      try {
        return { ok: true, result: await server.submit(op, session) };
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'ERR_UNKNOWN';
        const leaderHint = err instanceof NotLeaderError ? err.leaderHint : null;
        return { ok: false, code, leaderHint };
      }
    },
  };
}

/**
 * The lab's clerk over rsm: numbers its ops, keeps one in flight, and resends it with the
 * same session to the hinted leader or the next server after any failure, forever.
 */
export class Clerk {
  readonly #sim: Sim;
  readonly #ends: readonly ClientEnd[];
  readonly #id: number;
  #seq = 0;
  #leader = 0;
  /** Attempts that did not return a result (lost, not leader, outcome unknown). */
  retries = 0;

  constructor(sim: Sim, ends: readonly ClientEnd[], id: number) {
    this.#sim = sim;
    this.#ends = ends;
    this.#id = id;
  }

  async submit(op: KvOp): Promise<string> {
    const session = { clientId: this.#id, seq: ++this.#seq };
    for (;;) {
      const end = this.#ends[this.#leader] as ClientEnd;
      const result = await end.call<SubmitReply>(
        'Rsm.Submit',
        { op, session },
        { timeoutMs: 3000 },
      );
      const reply = result.ok ? result.reply : undefined;
      if (reply?.ok) return reply.result;
      if (reply?.code === 'ERR_STALE_REQUEST') {
        throw new Error(`clerk ${this.#id}: op ${session.seq} refused as stale`);
      }
      this.retries++;
      const hint = reply?.leaderHint ?? null;
      this.#leader = hint ?? (this.#leader + 1) % this.#ends.length;
      if (hint === null) await this.#sim.sleep(20);
    }
  }
}
