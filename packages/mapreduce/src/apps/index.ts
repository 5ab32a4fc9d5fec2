import type { App } from '../app.js';
import * as indexer from './indexer.js';
import * as wc from './wc.js';

/** The apps `--app <name>` finds without a path. */
export const builtinApps: Readonly<Record<string, App>> = Object.freeze({
  wc: wc as App,
  indexer: indexer as App,
});

export { indexer, wc };
