/** Makes a service's own error for a bad option: every package keeps its own error classes. */
export type OptionErrorFactory = (option: string, message: string) => Error;

/** `url` parsed, if it is `ws://host:port` (the form cluster configurations use); else `undefined`. */
export function parseWsUrl(url: string): URL | undefined {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  return parsed.protocol === 'ws:' && parsed.port !== '' ? parsed : undefined;
}

/**
 * Every url parsed (see `parseWsUrl`), or throws `optionError(option, …)` when there is none
 * or at the first bad one.
 */
export function checkWsUrls(
  option: string,
  urls: readonly string[],
  optionError: OptionErrorFactory,
): URL[] {
  if (urls.length === 0) throw optionError(option, 'must hold one url per server');
  return urls.map((url) => {
    const parsed = parseWsUrl(url);
    if (parsed === undefined) {
      throw optionError(option, `wants ws://host:port urls, got ${JSON.stringify(url)}`);
    }
    return parsed;
  });
}

/** The host and port to listen on for `url`: an IPv6 host without its brackets. */
export function listenAddress(url: URL): { readonly host: string; readonly port: number } {
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) };
}
