import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DomainError } from '@charge/errors';
import { selectSamples } from '../src/domain/dataset-strategy';
import { validateDataset } from '../src/domain/dataset-validation';
import {
  exportLlamaFactoryYaml,
  importLlamaFactoryYaml,
  readFlatYaml,
} from '../src/domain/llamafactory-yaml';
import { runFlowControlTraining, type LogRecord } from '../src/trainers/flow-control/training';
import { metricFromRecord } from '../src/runner/trainer-log';
import { separableJsonl } from './fixtures';

function invalid(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected an error');
}

const LLAMA_YAML = `### model
model_name_or_path: Qwen/Qwen2.5-1.5B-Instruct
trust_remote_code: true

### method
stage: sft
do_train: true
finetuning_type: lora
lora_rank: 8
lora_alpha: 16
lora_dropout: 0.05
lora_target: all

### dataset
dataset: identity,alpaca_en_demo
template: qwen
cutoff_len: 2048

### train
per_device_train_batch_size: 1
gradient_accumulation_steps: 8
learning_rate: 1.0e-4
num_train_epochs: 3.0
lr_scheduler_type: cosine
warmup_ratio: 0.1
bf16: true
val_size: 0.1   # held out
`;

describe('dataset validation', () => {
  it('lists every malformed flow_control line with its number', () => {
    const text = [
      '{"features":[1,2],"label":"a"}',
      '{"features":[1,"x"],"label":"a"}',
      '',
      'not json',
      '{"features":[1,2,3],"label":"b"}',
      '{"features":[3,4],"label":"b"}',
      '{"features":[3,4]}',
    ].join('\n');
    const error = invalid(() => validateDataset('flow_control', Buffer.from(text)));
    expect(error.kind).toBe('invalidArgument');
    expect(error.metadata).toEqual({ lines: '2,4,5,7' });
    expect(error.message).toContain('line 4: not valid JSON');
  });

  it('accepts Alpaca and ShareGPT samples as JSON Lines and JSON arrays', () => {
    const alpaca = { instruction: 'explain BHM timeout', input: '', output: 'the BMS did not answer' };
    const sharegpt = {
      conversations: [
        { from: 'human', value: 'q' },
        { from: 'gpt', value: 'a' },
      ],
    };
    expect(
      validateDataset('sft', Buffer.from(`${JSON.stringify(alpaca)}\n${JSON.stringify(sharegpt)}\n`)).samples,
    ).toHaveLength(2);
    const array = validateDataset('sft', Buffer.from(JSON.stringify([alpaca, alpaca, sharegpt])));
    expect(array.meta).toEqual({ format: 'json', styles: { alpaca: 2, sharegpt: 1 } });
    const bad = invalid(() => validateDataset('sft', Buffer.from(JSON.stringify([alpaca, { output: 'x' }]))));
    expect(bad.metadata).toEqual({ lines: '2' });
  });
});

describe('SFT CSV', () => {
  it('reads quoted, multi-line Alpaca CSV and names the line of a bad record', () => {
    const csv = 'instruction,input,output\r\n"why, exactly?",,"line one\nline ""two"""\nsecond,x,y\n';
    const { samples, meta } = validateDataset('sft', Buffer.from(csv), 'train.csv');
    expect(samples.map((s) => JSON.parse(s))).toEqual([
      { instruction: 'why, exactly?', input: '', output: 'line one\nline "two"' },
      { instruction: 'second', input: 'x', output: 'y' },
    ]);
    expect(meta).toEqual({ format: 'csv', styles: { alpaca: 2 } });
    const bad = invalid(() =>
      validateDataset('sft', Buffer.from('instruction,output\nok,fine\n,empty\nonly-one\n'), 'x.csv'),
    );
    expect(bad.metadata).toEqual({ lines: '3,4' });
    expect(invalid(() => validateDataset('sft', Buffer.from('question,answer\nq,a\n'), 'x.csv')).kind).toBe(
      'invalidArgument',
    );
  });
});

describe('LLaMA-Factory YAML', () => {
  it('imports, exports and re-imports to the same settings', () => {
    const first = importLlamaFactoryYaml(LLAMA_YAML);
    expect(first.modelPath).toBe('Qwen/Qwen2.5-1.5B-Instruct');
    expect(first.hyperparameters).toEqual({
      stage: 'sft',
      finetuning_type: 'lora',
      lora_rank: 8,
      lora_alpha: 16,
      lora_dropout: 0.05,
      lora_target: 'all',
      template: 'qwen',
      cutoff_len: 2048,
      per_device_train_batch_size: 1,
      gradient_accumulation_steps: 8,
      learning_rate: 0.0001,
      num_train_epochs: 3,
      lr_scheduler_type: 'cosine',
      warmup_ratio: 0.1,
      bf16: true,
      val_size: 0.1,
    });
    const yaml = exportLlamaFactoryYaml({
      name: 'x',
      modelPath: first.modelPath,
      hyperparameters: first.hyperparameters,
    });
    expect(importLlamaFactoryYaml(yaml)).toEqual(first);
    expect(
      exportLlamaFactoryYaml({ name: 'x', modelPath: 'm', hyperparameters: { learning_rate: 1e-7 } }),
    ).toContain('learning_rate: 1.0e-7');
  });

  it('rejects nesting, unknown keys and out-of-range values, naming them', () => {
    expect(invalid(() => readFlatYaml('a: 1\n  b: 2')).message).toContain('line 2');
    expect(invalid(() => readFlatYaml('a: [1, 2]')).kind).toBe('invalidArgument');
    expect(invalid(() => importLlamaFactoryYaml('model_name_or_path: m\nlora_rankk: 8')).field).toBe(
      'yaml.lora_rankk',
    );
    expect(invalid(() => importLlamaFactoryYaml('model_name_or_path: m\nlora_rank: 0')).field).toBe(
      'yaml.lora_rank',
    );
    expect(invalid(() => importLlamaFactoryYaml('lora_rank: 8')).field).toBe('yaml.model_name_or_path');
    expect(readFlatYaml(`s: "a: b # c"\nt: 'it''s'\nu: plain # comment`)).toEqual(
      new Map([
        ['s', 'a: b # c'],
        ['t', "it's"],
        ['u', 'plain'],
      ]),
    );
  });
});

describe('flow-control trainer', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'fc-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lowers the loss and reaches validation accuracy >= 0.9 on separable data; resume continues from the checkpoint', async () => {
    const dataset = path.join(dir, 'data.jsonl');
    writeFileSync(dataset, separableJsonl(300));
    const out = path.join(dir, 'out');
    const hp = { num_train_epochs: 8, per_device_train_batch_size: 16, logging_steps: 5, learning_rate: 0.1 };
    await runFlowControlTraining(
      { dataset_path: dataset, output_dir: out, hyperparameters: hp },
      () => undefined,
    );
    const read = () =>
      readFileSync(path.join(out, 'trainer_log.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as LogRecord);
    const records = read();
    expect(records.length).toBeGreaterThan(5);
    expect(records.at(-1)!.loss).toBeLessThan(records[0].loss);
    expect(records.at(-1)!.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(records.at(-1)!.current_steps).toBe(records.at(-1)!.total_steps);
    const results = JSON.parse(readFileSync(path.join(out, 'all_results.json'), 'utf8')) as Record<
      string,
      number
    >;
    expect(results.eval_accuracy).toBeGreaterThanOrEqual(0.9);

    // Resume: the finished run's newest checkpoint is the last step, so nothing is re-logged.
    await runFlowControlTraining(
      { dataset_path: dataset, output_dir: out, hyperparameters: hp, resume_from_checkpoint: true },
      () => undefined,
    );
    const again = read().map((r) => r.current_steps);
    expect(new Set(again).size).toBe(again.length);
    expect(again).toEqual(records.map((r) => r.current_steps));
  });

  it('maps LogCallback records to metric columns and custom metrics', () => {
    const row = metricFromRecord(3, {
      current_steps: 10,
      total_steps: 20,
      loss: 0.5,
      eval_loss: 0.4,
      accuracy: 0.9,
      lr: 0.01,
      epoch: 1.5,
      vram_allocated: 2.5,
    });
    expect(row).toMatchObject({
      taskId: 3,
      step: 10,
      epoch: 1,
      loss: 0.5,
      accuracy: 0.9,
      learningRate: 0.01,
      gpuMemory: 2.5,
    });
    expect(row!.customMetrics).toEqual({ total_steps: 20, eval_loss: 0.4, epoch: 1.5 });
    expect(metricFromRecord(3, { loss: 1 })).toBeUndefined();
  });
});

describe('dataset strategies', () => {
  const fc = (features: number[], label: string) => JSON.stringify({ features, label });

  it('balanced keeps the rarest label count per label; high_quality drops duplicates and conflicting vectors', () => {
    const lines = [
      fc([1], 'a'),
      fc([2], 'a'),
      fc([3], 'a'),
      fc([4], 'b'),
      fc([5], 'b'),
      fc([1], 'a'),
      fc([5], 'c'),
    ];
    const balanced = selectSamples('flow_control', 'balanced', lines, 1).map(
      (l) => JSON.parse(l).label as string,
    );
    expect(balanced.sort()).toEqual(['a', 'b', 'c']);
    expect(selectSamples('flow_control', 'balanced', lines, 1)).toEqual(
      selectSamples('flow_control', 'balanced', lines, 1),
    );
    expect(selectSamples('flow_control', 'high_quality', lines)).toEqual([
      fc([1], 'a'),
      fc([2], 'a'),
      fc([3], 'a'),
      fc([4], 'b'),
    ]);
    expect(selectSamples('flow_control', 'full', lines)).toBe(lines);
  });

  it('for SFT, balanced keeps one sample per prompt and high_quality drops trivial answers', () => {
    const a = (instruction: string, output: string) => JSON.stringify({ instruction, input: '', output });
    const chat = JSON.stringify({
      conversations: [
        { from: 'human', value: 'q' },
        { from: 'gpt', value: 'ok' },
      ],
    });
    const lines = [a('why', 'because BMS'), a('why', 'other answer'), a('how', ''), a('same', 'same'), chat];
    expect(selectSamples('sft', 'balanced', lines)).toHaveLength(4);
    expect(selectSamples('sft', 'high_quality', lines)).toEqual([lines[0], lines[1], chat]);
  });
});
