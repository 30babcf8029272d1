import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { HyperparameterValues } from '../../domain/hyperparameters';
import {
  evaluate,
  featureSpace,
  initModel,
  learningRateAt,
  shuffled,
  trainStep,
  vectorize,
  type ModelState,
  type RawSample,
} from './model';

/** The trainer's config file (written by the runner). */
export interface TrainerConfig {
  dataset_path: string;
  output_dir: string;
  hyperparameters: HyperparameterValues;
  resume_from_checkpoint?: boolean;
}

/** One LLaMA-Factory LogCallback record (the keys this trainer fills). */
export interface LogRecord {
  current_steps: number;
  total_steps: number;
  loss: number;
  eval_loss?: number;
  accuracy?: number;
  lr: number;
  epoch: number;
  percentage: number;
  elapsed_time: string;
  remaining_time: string;
  throughput: number;
}

export const TRAINER_LOG = 'trainer_log.jsonl';

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** The newest `checkpoint-<step>` directory of an output dir, if any. */
export function latestCheckpoint(outputDir: string): { step: number; dir: string } | undefined {
  if (!existsSync(outputDir)) return undefined;
  const steps = readdirSync(outputDir)
    .map((n) => /^checkpoint-(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => !!m && existsSync(path.join(outputDir, m[0], 'trainer_state.json')))
    .map((m) => Number(m[1]));
  if (!steps.length) return undefined;
  const step = Math.max(...steps);
  return { step, dir: path.join(outputDir, `checkpoint-${step}`) };
}

function writeJsonAtomic(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(value));
  renameSync(`${file}.tmp`, file);
}

/**
 * Keeps only the log records up to `step` (resume). Rewrites the file (atomically, as a
 * new inode, so a tailing reader notices) only when something is dropped.
 */
export function truncateTrainerLog(file: string, step: number): void {
  if (!existsSync(file)) return;
  const lines = readFileSync(file, 'utf8').split('\n');
  const kept = lines.filter((line) => {
    if (!line.trim()) return false;
    try {
      return (JSON.parse(line) as LogRecord).current_steps <= step;
    } catch {
      return false;
    }
  });
  if (kept.length === lines.filter((l) => l.trim()).length) return;
  writeFileSync(`${file}.tmp`, kept.length ? `${kept.join('\n')}\n` : '');
  renameSync(`${file}.tmp`, file);
}

/**
 * Trains the flow-control classifier with mini-batch gradient descent: seeded shuffle,
 * validation split, scheduled learning rate, validation loss/accuracy at every logged
 * step, checkpoints every `save_steps` and at the end.
 */
export async function runFlowControlTraining(
  config: TrainerConfig,
  say: (line: string) => void,
): Promise<void> {
  const hp = config.hyperparameters ?? {};
  const seed = hp.seed ?? 42;
  const lrPeak = hp.learning_rate ?? 0.1;
  const epochs = hp.num_train_epochs ?? 20;
  const batch = (hp.per_device_train_batch_size ?? 16) * (hp.gradient_accumulation_steps ?? 1);
  const valSize = hp.val_size ?? 0.2;
  const scheduler = hp.lr_scheduler_type ?? 'cosine';
  const delayMs = hp.step_delay_ms ?? 0;
  const weightDecay = hp.weight_decay ?? 0;
  const out = config.output_dir;
  mkdirSync(out, { recursive: true });
  const logFile = path.join(out, TRAINER_LOG);

  const samples = readFileSync(config.dataset_path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as RawSample);
  if (samples.length < 2)
    throw new Error(`the dataset has ${samples.length} sample(s); at least 2 are needed`);
  const order = shuffled(
    samples.map((_, i) => i),
    seed,
  );
  const valCount = valSize > 0 ? Math.max(1, Math.round(samples.length * valSize)) : 0;
  if (valCount >= samples.length) throw new Error('val_size leaves no training samples');
  const trainIdx = order.slice(valCount);
  const valIdx = order.slice(0, valCount);

  let model: ModelState;
  let step = 0;
  const checkpoint = config.resume_from_checkpoint ? latestCheckpoint(out) : undefined;
  if (checkpoint) {
    const state = JSON.parse(readFileSync(path.join(checkpoint.dir, 'trainer_state.json'), 'utf8')) as {
      global_step: number;
      model: ModelState;
    };
    model = state.model;
    step = state.global_step;
    truncateTrainerLog(logFile, step);
    say(`resuming from ${path.basename(checkpoint.dir)} (step ${step})`);
  } else {
    const labels = [...new Set(trainIdx.map((i) => String(samples[i].label)))].sort();
    if (labels.length < 2) throw new Error('the training split has fewer than 2 labels');
    model = initModel(labels, featureSpace(trainIdx.map((i) => samples[i])), hp.hidden_size ?? 0, seed);
    truncateTrainerLog(logFile, 0);
  }
  const labelIndex = new Map(model.labels.map((l, i) => [l, i]));
  const encode = (idx: number[]) => {
    const known = idx.filter((i) => labelIndex.has(String(samples[i].label)));
    return {
      xs: known.map((i) => vectorize(model.space, samples[i].features)),
      ys: known.map((i) => labelIndex.get(String(samples[i].label))!),
    };
  };
  const train = encode(trainIdx);
  const val = encode(valIdx);

  const stepsPerEpoch = Math.max(1, Math.ceil(train.xs.length / batch));
  const totalSteps = Math.max(1, Math.ceil(epochs * stepsPerEpoch));
  const warmup = Math.floor((hp.warmup_ratio ?? 0) * totalSteps);
  const loggingSteps = hp.logging_steps ?? Math.max(1, Math.ceil(totalSteps / 100));
  const saveSteps = hp.save_steps ?? stepsPerEpoch;
  if (!checkpoint) {
    say(
      `flow-control: ${train.xs.length} training / ${val.xs.length} validation samples, ${model.labels.length} labels, ` +
        `${model.space.width} features, ${totalSteps} steps (${stepsPerEpoch} per epoch)`,
    );
  }

  const saveCheckpoint = () => {
    const dir = path.join(out, `checkpoint-${step}`);
    mkdirSync(dir, { recursive: true });
    writeJsonAtomic(path.join(dir, 'trainer_state.json'), {
      global_step: step,
      total_steps: totalSteps,
      model,
    });
    // Like save_total_limit: 2, keep the newest two checkpoints.
    const older = readdirSync(out)
      .map((n) => /^checkpoint-(\d+)$/.exec(n))
      .filter((m): m is RegExpExecArray => !!m && Number(m[1]) < step)
      .sort((a, b) => Number(b[1]) - Number(a[1]))
      .slice(1);
    for (const m of older) rmSync(path.join(out, m[0]), { recursive: true, force: true });
  };

  const started = Date.now();
  const firstStep = step;
  let lossSum = 0;
  let lossCount = 0;
  let lastLr: number;
  let epochOrder: number[] = [];
  let orderEpoch = -1;
  let record: LogRecord | undefined;
  while (step < totalSteps) {
    const epoch = Math.floor(step / stepsPerEpoch);
    if (epoch !== orderEpoch) {
      epochOrder = shuffled(
        train.xs.map((_, i) => i),
        seed + 1 + epoch,
      );
      orderEpoch = epoch;
    }
    const at = (step % stepsPerEpoch) * batch;
    const picked = epochOrder.slice(at, at + batch);
    lastLr = learningRateAt(scheduler, lrPeak, step, totalSteps, warmup);
    lossSum += trainStep(
      model,
      picked.map((i) => train.xs[i]),
      picked.map((i) => train.ys[i]),
      lastLr,
      weightDecay,
    );
    lossCount++;
    step++;
    if (step % loggingSteps === 0 || step === totalSteps) {
      const elapsed = (Date.now() - started) / 1000;
      const done = step - firstStep;
      const remaining = done > 0 ? (elapsed / done) * (totalSteps - step) : 0;
      const evaluation = val.xs.length ? evaluate(model, val.xs, val.ys) : undefined;
      record = {
        current_steps: step,
        total_steps: totalSteps,
        loss: round(lossSum / lossCount, 6),
        ...(evaluation
          ? { eval_loss: round(evaluation.loss, 6), accuracy: round(evaluation.accuracy, 6) }
          : {}),
        lr: lastLr,
        epoch: round(step / stepsPerEpoch, 2),
        percentage: round((step / totalSteps) * 100, 2),
        elapsed_time: clock(elapsed),
        remaining_time: clock(remaining),
        throughput: round(elapsed > 0 ? (done * batch) / elapsed : 0, 2),
      };
      appendFileSync(logFile, `${JSON.stringify(record)}\n`);
      lossSum = 0;
      lossCount = 0;
    }
    if (step % saveSteps === 0 || step === totalSteps) saveCheckpoint();
    if (step % stepsPerEpoch === 0) {
      say(`epoch ${step / stepsPerEpoch}: loss ${record?.loss ?? '-'} accuracy ${record?.accuracy ?? '-'}`);
    }
    await new Promise((r) => (delayMs > 0 ? setTimeout(r, delayMs) : setImmediate(r)));
  }

  const final = val.xs.length ? evaluate(model, val.xs, val.ys) : undefined;
  const trainEval = evaluate(model, train.xs, train.ys);
  writeJsonAtomic(path.join(out, 'model.json'), model);
  writeJsonAtomic(path.join(out, 'all_results.json'), {
    epoch: round(step / stepsPerEpoch, 2),
    total_steps: totalSteps,
    train_loss: round(trainEval.loss, 6),
    train_accuracy: round(trainEval.accuracy, 6),
    ...(final ? { eval_loss: round(final.loss, 6), eval_accuracy: round(final.accuracy, 6) } : {}),
    train_runtime: round((Date.now() - started) / 1000, 3),
  });
  say(`done: ${step} steps, validation accuracy ${final ? round(final.accuracy, 4) : '-'}`);
}
