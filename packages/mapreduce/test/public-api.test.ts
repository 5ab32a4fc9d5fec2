import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

/** The package's runtime exports, exactly: the README's Library table lists these (and the types). */
describe('public API', () => {
  it('exports what it takes to write an app and run a job, and nothing else', () => {
    expect(Object.keys(api).sort()).toEqual([
      'AppError',
      'AppLoadError',
      'Coordinator',
      'CoordinatorClosedError',
      'CoordinatorUnreachableError',
      'InputReadError',
      'IntermediateError',
      'JobFailedError',
      'MapReduceError',
      'OutputWriteError',
      'ProtocolError',
      'UnknownTaskError',
      'UsageError',
      'asApp',
      'builtinApps',
      'indexer',
      'loadApp',
      'runSequential',
      'runWorker',
      'wc',
    ]);
  });
});
