/** Picks a writer by output format (for a `convert` command). */
import { createAscWriter, type AscWriterOptions } from './asc-writer';
import { createBlfWriter, type BlfWriterOptions } from './blf-writer';
import type { WriteTarget } from './byte-sink';
import { createCandumpWriter, type CandumpWriterOptions } from './candump-writer';
import { createCsvWriter, type CsvWriterOptions } from './csv-writer';
import { CanLogError } from './errors';
import type { LogWriter } from './frame-input';

/** Formats this library writes. */
export type WriteFormat = 'blf' | 'asc' | 'csv' | 'candump';

/** Options of every writer, merged; each writer reads the ones it knows. */
export type LogWriterOptions = BlfWriterOptions & AscWriterOptions & CsvWriterOptions & CandumpWriterOptions;

/**
 * Creates a writer for `format` on a path or sink.
 * @throws CanLogError `INVALID_ARGUMENT` for an unknown format, `IO_ERROR` when the file cannot be created.
 */
export async function createLogWriter(
  format: WriteFormat,
  target: WriteTarget,
  options: LogWriterOptions = {},
): Promise<LogWriter> {
  switch (format) {
    case 'blf':
      return createBlfWriter(target, options);
    case 'asc':
      return createAscWriter(target, options);
    case 'csv':
      return createCsvWriter(target, options);
    case 'candump':
      return createCandumpWriter(target, options);
    default:
      throw new CanLogError('INVALID_ARGUMENT', `unknown output format ${String(format)}`);
  }
}
