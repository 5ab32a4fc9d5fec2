/** The stress runner's command line and which scenarios it selects. */

export interface StressOptions {
  seeds: number;
  from: number;
  jobs: number;
  only: string | undefined;
  timeoutMs: number;
}

/** `--seeds N --from N --jobs N --only Names|RegExp --timeout-ms N`, also as `--flag=value`. */
export function parseStressArgs(argv: readonly string[]): StressOptions {
  const options: StressOptions = {
    seeds: 100,
    from: 1,
    jobs: 2,
    only: undefined,
    timeoutMs: 120_000,
  };
  const positive = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      // `pnpm stress -- --seeds 5` passes its `--` on.
      case '--':
        break;
      case '--seeds':
        options.seeds = positive(flag, value());
        break;
      case '--from':
        options.from = positive(flag, value());
        break;
      case '--jobs':
        options.jobs = positive(flag, value());
        break;
      case '--timeout-ms':
        options.timeoutMs = positive(flag, value());
        break;
      case '--only':
        options.only = value();
        break;
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  return options;
}

/**
 * The scenario names `--only` asks for, in the order given when they are all exact names, else
 * those the regular expression matches, in the registry's order; all of them without `--only`.
 */
export function selectScenarios(names: readonly string[], only: string | undefined): string[] {
  if (only === undefined) return [...names];
  const wanted = only.split(',').map((s) => s.trim());
  if (wanted.every((w) => names.includes(w))) return wanted;
  const pattern = new RegExp(only);
  const matched = names.filter((n) => pattern.test(n));
  if (matched.length === 0) throw new Error(`--only ${only} matches no scenario`);
  return matched;
}
