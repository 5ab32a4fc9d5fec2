import { configError } from './errors.js';

/**
 * Chaos is for processes on this machine: the proxies listen on, and dial, loopback addresses
 * only, so a test can never inject faults into (or open a port to) anything else.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare === 'localhost' || bare === '::1' || /^127(?:\.\d{1,3}){3}$/.test(bare);
}

/** Checks that `url` is `ws://<loopback host>:<port>`; returns it unchanged. */
export function loopbackWsUrl(url: string, option: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw configError(option, `is not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'ws:' || parsed.port === '') {
    throw configError(option, `must be ws://host:port, got ${JSON.stringify(url)}`);
  }
  if (!isLoopbackHost(parsed.hostname)) {
    throw configError(option, `must be a loopback address, got ${JSON.stringify(url)}`);
  }
  return url;
}
