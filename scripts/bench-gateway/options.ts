/** Command-line options of `npm run bench:gateway`. */
export interface Options {
  /** Concurrent clients: HTTP connections for autocannon, in-flight calls for gRPC. */
  clients: number;
  /** Measured seconds per run. */
  seconds: number;
  /** Unmeasured warm-up seconds at the start of every run. */
  warmup: number;
  /** ABBA rounds per read (each round runs both paths once). */
  rounds: number;
  /** Analyses seeded (ListAnalyses reads a page of 20). */
  analyses: number;
}

const DEFAULTS: Options = { clients: 16, seconds: 5, warmup: 1, rounds: 2, analyses: 20 };
const INTEGER: ReadonlySet<keyof Options> = new Set(['clients', 'rounds', 'analyses']);

export function parseOptions(argv: readonly string[]): Options {
  const options = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '') as keyof Options;
    if (!argv[i].startsWith('--') || !(name in DEFAULTS))
      throw new Error(
        `unknown option ${argv[i]}; use --clients N --seconds S --warmup W --rounds R --analyses N`,
      );
    const value = Number(argv[i + 1]);
    const ok =
      Number.isFinite(value) &&
      (name === 'warmup' ? value >= 0 : value > 0) &&
      (!INTEGER.has(name) || Number.isInteger(value));
    if (!ok)
      throw new Error(
        `--${name} needs a ${INTEGER.has(name) ? 'whole ' : ''}number ${name === 'warmup' ? '≥' : '>'} 0, got ${argv[i + 1]}`,
      );
    options[name] = value;
  }
  return options;
}
