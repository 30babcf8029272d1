/** Command-line parsing on top of `node:util` `parseArgs`, with usage errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_SAMPLE_FAULT, DEFAULT_SAMPLE_FRAMES, SAMPLE_FAULTS } from '@charge/gbt27930';
import { UsageError } from './cli-errors';

/** Usage text. */
export const USAGE = `Usage: charge-analysis <command> [options]

Commands:
  analyze FILE [--json] [--dbc FILE]   diagnose the GB/T 27930 charging sessions in a log
  info FILE                            file summary (writer, objects per type, frames per channel, times)
  trace FILE [--id ID[,ID…]] [--from S] [--to S] [--decode] [--limit N]
                                       print frames (ids in hex; times in seconds from log start)
  convert FILE --to blf|asc|csv OUT    convert a log
  sample OUT [--frames N] [--fault NAME] [--seed N] [--force]
                                       write a realistic GB/T 27930-2015 session as BLF (default
                                       ${DEFAULT_SAMPLE_FRAMES} frames, about 5 min, ending in ${DEFAULT_SAMPLE_FAULT});
                                       NAME: ${Object.keys(SAMPLE_FAULTS).join(', ')}

Formats read: BLF, Vector ASC, candump -L, ZLG CANTest export.
Exit codes: 0 ok, 2 usage error (or sample OUT exists without --force), 3 unreadable input
(or unwritable output).`;

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` (after the command) with the given options; unknown options are usage errors. */
export function parse(
  argv: string[],
  options: Options,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Exactly `n` positionals named `names`. */
export function positionals(list: string[], names: string[]): string[] {
  if (list.length !== names.length) {
    throw new UsageError(`expected ${names.join(' ')}, got ${list.length ? list.join(' ') : 'nothing'}`);
  }
  return list;
}

/** A non-negative number option. */
export function numberOption(value: string | boolean | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--${name} needs a non-negative number, got ${JSON.stringify(value)}`);
  }
  return n;
}
