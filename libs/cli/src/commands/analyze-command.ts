/** `analyze FILE [--json] [--dbc FILE]`. */
import { analyzeLog } from '@charge/gbt27930';
import { parse, positionals } from '../args';
import { formatSummary } from '../format-summary';
import { openInput, readDbc, reading } from '../open-input';
import type { CliIo } from '../output';

/** Runs `analyze`. */
export async function analyzeCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals: pos } = parse(argv, { json: { type: 'boolean' }, dbc: { type: 'string' } });
  const [file] = positionals(pos, ['FILE']);
  const dbc = typeof values.dbc === 'string' ? await readDbc(values.dbc) : undefined;
  const log = await openInput(file);
  const report = await reading(file, () => analyzeLog(log, { dbc }));
  io.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatSummary(file, report));
  return 0;
}
