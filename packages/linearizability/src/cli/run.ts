import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkEvents, checkOperations } from '../check.js';
import { LinearizabilityError, UsageError } from '../errors.js';
import { formatResult } from '../explain.js';
import { toJson } from '../export-json.js';
import { renderHtml } from '../html/page.js';
import { casRegisterModel } from '../models/cas-register.js';
import { kvModel } from '../models/kv.js';
import { kvMapModel } from '../models/kv-map.js';
import { isValue, type RegisterValue, registerModel } from '../models/register.js';
import type { CheckResult, Model } from '../types.js';
import { parseHistoryFile } from './history-file.js';

export const USAGE = `Usage: flotilla-lincheck <history.json> [options]

Checks that a history of operations is linearizable.

Options:
  --model <name>       kv (default; get/put/append/appendReturnsOld, by key),
                       kv-map (the same, all keys as one history), register
                       (read/write) or cas-register (read/write/cas)
  --initial <json>     initial value of a register model (default 0)
  --time-limit <ms>    give up and answer "unknown" after this long (default 10000; 0: none)
  --html <path>        write an HTML visualization
  --all                check and explain every partition (default: stop at the first
                       illegal one; the others are reported as not checked)
  --json <path>        write the result as JSON
  -q, --quiet          print nothing; use the exit code
  -h, --help           show this help

The history file holds an array of operations {clientId, input, call, output?, return?} (no
return: outcome unknown), an array of events {kind: "call"|"return", id, clientId, input |
output}, or an object with an "operations" or "events" array.

Exit codes: 0 linearizable, 1 not linearizable, 3 unknown (time limit), 2 bad usage or input.
`;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

const EXIT = { ok: 0, illegal: 1, unknown: 3 } as const;

function pickModel(name: string, initial: string | undefined): Model<unknown, unknown, unknown> {
  let value: RegisterValue = 0;
  if (initial !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(initial);
    } catch {
      throw new UsageError(`--initial must be JSON, got ${initial}`);
    }
    if (!isValue(parsed))
      throw new UsageError('--initial must be a string, number, boolean or null');
    value = parsed;
  }
  switch (name) {
    case 'kv':
      if (initial !== undefined) throw new UsageError('--initial applies to register models only');
      return kvModel as Model<unknown, unknown, unknown>;
    case 'kv-map':
      if (initial !== undefined) throw new UsageError('--initial applies to register models only');
      return kvMapModel as Model<unknown, unknown, unknown>;
    case 'register':
      return registerModel(value) as Model<unknown, unknown, unknown>;
    case 'cas-register':
      return casRegisterModel(value) as Model<unknown, unknown, unknown>;
    default:
      throw new UsageError(
        `unknown model ${JSON.stringify(name)}: use kv, kv-map, register or cas-register`,
      );
  }
}

/** Runs the CLI; returns the exit code. */
export function runCli(argv: readonly string[], io: CliIo = processIo): number {
  try {
    return run(argv, io);
  } catch (err) {
    if (err instanceof LinearizabilityError) {
      io.stderr(`flotilla-lincheck: ${err.code}: ${err.message}\n`);
      if (err instanceof UsageError) io.stderr('Run with --help for usage.\n');
      return 2;
    }
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('E')) {
      io.stderr(`flotilla-lincheck: ${code}: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

function run(argv: readonly string[], io: CliIo): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('expected exactly one history file');
  const limit = Number(values['time-limit']);
  if (!Number.isFinite(limit) || limit < 0) {
    throw new UsageError(
      `--time-limit must be a non-negative number of ms, got ${values['time-limit']}`,
    );
  }
  const model = pickModel(values.model, values.initial);
  const file = parseHistoryFile(readFileSync(positionals[0] as string, 'utf8'));
  const options = {
    ...(limit === 0 ? {} : { timeLimitMs: limit }),
    ...(values.all ? { explain: true } : {}),
  };
  const result: CheckResult =
    file.kind === 'events'
      ? checkEvents(model, file.events, options)
      : checkOperations(model, file.operations, options);
  if (values.html !== undefined) writeFileSync(values.html, renderHtml(model, result));
  if (values.json !== undefined)
    writeFileSync(values.json, `${JSON.stringify(toJson(model, result), null, 1)}\n`);
  if (!values.quiet) {
    io.stdout(`${formatResult(model, result)}\n`);
    if (values.html !== undefined) io.stdout(`visualization: ${values.html}\n`);
  }
  return EXIT[result.outcome];
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      model: { type: 'string', default: 'kv' },
      initial: { type: 'string' },
      'time-limit': { type: 'string', default: '10000' },
      html: { type: 'string' },
      all: { type: 'boolean', default: false },
      json: { type: 'string' },
      quiet: { type: 'boolean', short: 'q', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
