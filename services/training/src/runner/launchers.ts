import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findExecutable } from '../domain/executables';
import type { HyperparameterValues } from '../domain/hyperparameters';
import { exportLlamaFactoryYaml } from '../domain/llamafactory-yaml';

/** What the runner executes for one run of a task. */
export interface TrainerCommand {
  command: string;
  args: string[];
}

export interface RunSpec {
  taskId: number;
  modelType: string;
  datasetPath: string;
  datasetMeta: Record<string, unknown>;
  modelPath?: string;
  hyperparameters: HyperparameterValues;
  outputDir: string;
  /** The checkpoint directory to continue from, if any. */
  resumeFrom?: string;
  llamaFactoryCli: string;
}

/** The flow-control trainer runs under tsx (TypeScript) with this process's Node. */
const FLOW_CONTROL_ENTRY = path.join(__dirname, '..', 'trainers', 'flow-control', 'main.ts');

/** Writes the trainer's config file and returns the command to start it. */
export async function prepareTrainer(spec: RunSpec): Promise<TrainerCommand> {
  await mkdir(spec.outputDir, { recursive: true });
  if (spec.modelType === 'flow_control') {
    const file = path.join(spec.outputDir, 'trainer_config.json');
    await writeFile(
      file,
      JSON.stringify({
        dataset_path: spec.datasetPath,
        output_dir: spec.outputDir,
        hyperparameters: spec.hyperparameters,
        resume_from_checkpoint: !!spec.resumeFrom,
      }),
    );
    return {
      command: process.execPath,
      args: ['--require', require.resolve('tsx/cjs'), FLOW_CONTROL_ENTRY, file],
    };
  }
  const cli = findExecutable(spec.llamaFactoryCli);
  if (!cli)
    throw new Error(
      `${spec.llamaFactoryCli} not found on PATH; the llamafactory trainer is not installed on this host`,
    );
  const styles = (spec.datasetMeta.styles ?? {}) as Record<string, number>;
  const sharegpt = (styles.sharegpt ?? 0) + (styles.openai_messages ?? 0) > (styles.alpaca ?? 0);
  const info = {
    task_dataset: {
      file_name: spec.datasetPath,
      ...(sharegpt
        ? styles.openai_messages
          ? {
              formatting: 'sharegpt',
              columns: { messages: 'messages' },
              tags: {
                role_tag: 'role',
                content_tag: 'content',
                user_tag: 'user',
                assistant_tag: 'assistant',
                system_tag: 'system',
              },
            }
          : { formatting: 'sharegpt', columns: { messages: 'conversations' } }
        : { formatting: 'alpaca' }),
    },
  };
  await writeFile(path.join(spec.outputDir, 'dataset_info.json'), JSON.stringify(info, null, 2));
  const yaml =
    exportLlamaFactoryYaml({
      name: `task ${spec.taskId}`,
      modelPath: spec.modelPath ?? '',
      hyperparameters: { stage: 'sft', finetuning_type: 'lora', ...spec.hyperparameters },
    }) +
    [
      'do_train: true',
      'dataset: task_dataset',
      `dataset_dir: ${JSON.stringify(spec.outputDir)}`,
      `output_dir: ${JSON.stringify(spec.outputDir)}`,
      `overwrite_output_dir: ${spec.resumeFrom ? 'false' : 'true'}`,
      'report_to: none',
      ...(spec.resumeFrom ? [`resume_from_checkpoint: ${JSON.stringify(spec.resumeFrom)}`] : []),
    ].join('\n') +
    '\n';
  const file = path.join(spec.outputDir, 'train.yaml');
  await writeFile(file, yaml);
  return { command: cli, args: ['train', file] };
}
