/**
 * `charge-analysis` entry point: dispatches the command and maps errors to exit codes
 * (0 ok, 2 usage, 3 unreadable input).
 */
import { isCanLogError } from '@charge/can-log';
import { USAGE } from './args';
import { ExitCode, InputError, UsageError } from './cli-errors';
import { analyzeCommand } from './commands/analyze-command';
import { convertCommand } from './commands/convert-command';
import { infoCommand } from './commands/info-command';
import { sampleCommand } from './commands/sample-command';
import { traceCommand } from './commands/trace-command';
import type { CliIo } from './output';

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  analyze: analyzeCommand,
  info: infoCommand,
  trace: traceCommand,
  convert: convertCommand,
  sample: sampleCommand,
};

/** Runs the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout).write(USAGE + '\n');
    return command === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.stderr.write(`charge-analysis: unknown command ${JSON.stringify(command)}\n\n${USAGE}\n`);
    return ExitCode.Usage;
  }
  try {
    return await run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`charge-analysis ${command}: ${e.message}\n\n${USAGE}\n`);
      return ExitCode.Usage;
    }
    if (e instanceof InputError || isCanLogError(e)) {
      io.stderr.write(`charge-analysis ${command}: ${(e as Error).message}\n`);
      return ExitCode.UnreadableInput;
    }
    throw e;
  }
}
