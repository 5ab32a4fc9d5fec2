/** What a client task ended with: its value, or why it failed. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/** Where spawned clients get their clerks (e.g. `cluster.clientPool()`). */
export interface ClientPool<C> {
  makeClient(): C;
  deleteClient(clerk: C): void;
}

/**
 * The lab's `run_client` × `ncli` without the wait: client `cli` runs `fn(cli, clerk)` on a
 * fresh clerk, deleted once `fn` returns. The promises never reject, so a failing client
 * can't become an unhandled rejection before the test looks at it.
 */
export function spawnClients<C, T>(
  pool: ClientPool<C>,
  ncli: number,
  fn: (cli: number, clerk: C) => Promise<T>,
): Promise<Outcome<T>>[] {
  return Array.from({ length: ncli }, async (_, cli): Promise<Outcome<T>> => {
    try {
      const clerk = pool.makeClient();
      const value = await fn(cli, clerk);
      pool.deleteClient(clerk);
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error };
    }
  });
}

/** The lab's `spawn_clients_and_wait`: every client's value; the first failure is thrown. */
export async function spawnClientsAndWait<C, T>(
  pool: ClientPool<C>,
  ncli: number,
  fn: (cli: number, clerk: C) => Promise<T>,
): Promise<T[]> {
  const outcomes = await Promise.all(spawnClients(pool, ncli, fn));
  return outcomes.map(outcomeValue);
}

/** The value of an outcome, or its error thrown. */
export function outcomeValue<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
