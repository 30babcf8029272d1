/**
 * `sample OUT [--frames N] [--fault NAME] [--seed N] [--force]`: writes a realistic GB/T
 * 27930-2015 session as BLF (the demo log), by @charge/gbt27930's `writeSampleSession`.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  DEFAULT_SAMPLE_FAULT,
  isSampleFault,
  minSampleFrames,
  SAMPLE_FAULTS,
  writeSampleSession,
  type SampleSummary,
} from '@charge/gbt27930';
import { numberOption, parse, positionals } from '../args';
import { ExitCode, InputError, UsageError } from '../cli-errors';
import type { CliIo } from '../output';

function wholeNumber(value: string | boolean | undefined, name: string): number | undefined {
  const n = numberOption(value, name);
  if (n !== undefined && !Number.isSafeInteger(n)) {
    throw new UsageError(`--${name} needs a whole number, got ${JSON.stringify(value)}`);
  }
  return n;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** The one line `sample` prints. */
export function formatSample(out: string, s: SampleSummary): string {
  const min = (seconds: number) => (seconds / 60).toFixed(1);
  const info = SAMPLE_FAULTS[s.fault];
  const findings = s.expectedFindings.join(', ');
  return (
    `wrote ${out}: ${s.frames.toLocaleString('en-US')} frames, ${min(s.durationS)} min from ${s.startTime} ` +
    `(charging ${min(s.chargingS)} min, SOC ${s.socStart}→${s.socEnd} %, ${s.energyKWh} kWh); ` +
    `fault ${s.fault}: ${info.description}; expected findings: ${findings}\n`
  );
}

/** Runs `sample`. */
export async function sampleCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals: pos } = parse(argv, {
    frames: { type: 'string' },
    fault: { type: 'string' },
    seed: { type: 'string' },
    force: { type: 'boolean' },
  });
  const [out] = positionals(pos, ['OUT']);
  const fault = values.fault ?? DEFAULT_SAMPLE_FAULT;
  if (typeof fault !== 'string' || !isSampleFault(fault)) {
    throw new UsageError(`--fault must be one of ${Object.keys(SAMPLE_FAULTS).join(', ')}`);
  }
  const frames = wholeNumber(values.frames, 'frames');
  const min = minSampleFrames(fault);
  if (frames !== undefined && frames < min) {
    throw new UsageError(`--frames must be at least ${min} (30 s of charging)`);
  }
  const seed = wholeNumber(values.seed, 'seed');
  if (!values.force && (await exists(out))) {
    io.stderr.write(`charge-analysis sample: ${out} exists; use --force to overwrite it\n`);
    return ExitCode.Usage;
  }
  // Written beside OUT and renamed, so OUT is never left half-written.
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.tmp`);
  let summary: SampleSummary;
  try {
    summary = await writeSampleSession(tmp, { frames, fault, seed });
    await fs.rename(tmp, out);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    const err = e as Error;
    const code = ((err.cause ?? err) as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : err.message;
    throw new InputError(`${out}: cannot write (${why})`);
  }
  io.stdout.write(formatSample(out, summary));
  return ExitCode.Ok;
}
