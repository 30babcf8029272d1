/**
 * The flow-control trainer process. Usage: `flow-control <config.json>`.
 *
 * Trainer contract (shared with the llamafactory trainer): read the config file, train,
 * append LLaMA-Factory LogCallback records to `<output_dir>/trainer_log.jsonl`, write
 * `checkpoint-<step>/` directories and the final artifacts, exit 0 on success. With
 * `resume_from_checkpoint` it continues from the newest checkpoint and first drops the
 * log records after that checkpoint's step, so steps are never logged twice.
 */
import { readFileSync } from 'node:fs';
import { runFlowControlTraining, type TrainerConfig } from './training';

const file = process.argv[2];
if (!file) {
  console.error('usage: flow-control <config.json>');
  process.exit(2);
}
if (process.env.CHARGE_TRAINER_EXIT_WITH_STDIN === '1') {
  // The runner holds our stdin; when it dies the pipe closes and we stop too.
  process.stdin.on('close', () => process.exit(143));
  process.stdin.resume();
}
const config = JSON.parse(readFileSync(file, 'utf8')) as TrainerConfig;
runFlowControlTraining(config, (line) => process.stdout.write(`${line}\n`)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
