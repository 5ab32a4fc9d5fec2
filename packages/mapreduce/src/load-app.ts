import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { App } from './app.js';
import { builtinApps } from './apps/index.js';
import { AppLoadError } from './errors.js';

/** What `loadApp` gives back: the app and where it came from. */
export interface LoadedApp {
  readonly app: App;
  /** `builtin:wc`, or the absolute path of the module. */
  readonly source: string;
}

/**
 * Loads an app: a built-in by name (`wc`, `indexer`), or an ES module by path (`./wc.js`),
 * resolved against `cwd`. The module exports `map` and `reduce` (and optionally `combine`),
 * as named exports or on its default export. Throws `AppLoadError` saying what is wrong.
 */
export async function loadApp(spec: string, cwd: string = process.cwd()): Promise<LoadedApp> {
  const builtin = Object.hasOwn(builtinApps, spec) ? builtinApps[spec] : undefined;
  if (builtin !== undefined && !looksLikePath(spec))
    return { app: builtin, source: `builtin:${spec}` };
  const path = isAbsolute(spec) ? spec : resolve(cwd, spec);
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) {
    const names = Object.keys(builtinApps).join(', ');
    throw new AppLoadError(
      `cannot load app "${spec}": no such file (${path}); built-in apps are ${names}`,
    );
  }
  if (!info.isFile()) throw new AppLoadError(`cannot load app "${spec}": ${path} is not a file`);
  let mod: unknown;
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const hint = /\.[cm]?ts$/.test(path)
      ? ' (a TypeScript app needs tsx, or compile it to .js)'
      : '';
    throw new AppLoadError(`cannot load app "${spec}": ${message}${hint}`, { cause: err });
  }
  return { app: asApp(mod, spec), source: path };
}

/** Checks a module namespace (or object) has the app's functions; throws `AppLoadError` if not. */
export function asApp(mod: unknown, name = 'app'): App {
  const candidates = [mod, (mod as { default?: unknown } | null)?.default];
  for (const candidate of candidates) {
    if (typeof candidate !== 'object' && typeof candidate !== 'function') continue;
    if (candidate === null) continue;
    const { map, reduce, combine } = candidate as Record<string, unknown>;
    if (typeof map !== 'function' || typeof reduce !== 'function') continue;
    if (combine !== undefined && typeof combine !== 'function') {
      throw new AppLoadError(`app "${name}": combine is exported but is not a function`);
    }
    return candidate as App;
  }
  const exported =
    typeof mod === 'object' && mod !== null ? Object.keys(mod).join(', ') || 'nothing' : typeof mod;
  throw new AppLoadError(
    `app "${name}" must export functions map and reduce (named or on its default export); it exports: ${exported}`,
  );
}

function looksLikePath(spec: string): boolean {
  return spec.includes('/') || spec.includes('\\') || spec.includes('.');
}
