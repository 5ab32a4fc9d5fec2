/** Makes a command line's own usage error (every package keeps its error classes). */
export type UsageErrorFactory = (message: string) => Error;

/** `--flag URL,URL,…`: each a `ws://host:port` url (the form cluster configurations use). */
export function urlListFlag(
  flag: string,
  text: string | undefined,
  usage: UsageErrorFactory,
): string[] {
  if (text === undefined) throw usage(`needs ${flag} URL,URL,…`);
  const urls = text.split(',').map((url) => url.trim());
  for (const url of urls) {
    if (!/^ws:\/\/[^/\s]+:\d{1,5}\/?$/.test(url)) {
      throw usage(`${flag} wants ws://host:port urls, got ${JSON.stringify(url)}`);
    }
  }
  return urls;
}

/** `--flag N`: decimal digits only, a safe integer ≥ `min`. */
export function integerFlag(
  flag: string,
  text: string | undefined,
  min: number,
  usage: UsageErrorFactory,
): number {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw usage(`${flag} wants an integer ≥ ${min}, got ${JSON.stringify(text)}`);
  }
  return n;
}

/**
 * The one stderr line of a command that failed: `<bin>: <message> [<code>]`. Every typed error
 * of these packages (and Node's system errors) carries a stable `code`; it is printed whatever
 * package threw it, so a refused start names both the file and the error.
 */
export function failureLine(bin: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return `${bin}: ${message}${typeof code === 'string' ? ` [${code}]` : ''}`;
}
