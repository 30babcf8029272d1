/** `convert FILE --to blf|asc|csv OUT` through can-log's writers. */
import { createAscWriter, createBlfWriter, createCsvWriter, type LogWriter } from '@charge/can-log';
import { parse, positionals } from '../args';
import { InputError, UsageError } from '../cli-errors';
import { openInput, reading } from '../open-input';
import type { CliIo } from '../output';

const TARGETS = ['blf', 'asc', 'csv'] as const;

/** Runs `convert`. */
export async function convertCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals: pos } = parse(argv, { to: { type: 'string' } });
  const [file, out] = positionals(pos, ['FILE', 'OUT']);
  const to = values.to;
  if (typeof to !== 'string' || !(TARGETS as readonly string[]).includes(to)) {
    throw new UsageError(`--to must be one of ${TARGETS.join(', ')}`);
  }
  const log = await openInput(file);
  const start = log.stats.startTime ?? log.blfHeader?.measurementStart;
  let writer: LogWriter;
  try {
    writer =
      to === 'blf'
        ? await createBlfWriter(out, { measurementStart: start })
        : to === 'asc'
          ? await createAscWriter(out, { measurementStart: start })
          : await createCsvWriter(out);
  } catch (e) {
    throw new InputError(`${out}: cannot write (${(e as Error).message})`);
  }
  await reading(file, async () => {
    for await (const b of log.batches()) await writer.writeBatch(b);
  });
  await writer.close();
  io.stderr.write(`${writer.framesWritten} frames written to ${out}\n`);
  return 0;
}
