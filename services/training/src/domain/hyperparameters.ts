import { z } from 'zod';
import { DomainError } from '@charge/errors';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const name = /^[A-Za-z0-9_.,/-]+$/;

/**
 * The hyperparameters the platform manages, under LLaMA-Factory's YAML key names. The
 * last three are knobs of the built-in flow-control trainer. Every key is optional; the
 * trainer's defaults apply to what is unset.
 */
export const hyperparameterSchema = z
  .object({
    stage: z.enum(['sft']),
    finetuning_type: z.enum(['lora', 'freeze', 'full']),
    lora_rank: int(1, 1024),
    lora_alpha: int(1, 4096),
    lora_dropout: z.number().min(0).max(1),
    lora_target: z.string().min(1).max(500).regex(name, 'must be module names separated by commas'),
    cutoff_len: int(1, 131072),
    learning_rate: z.number().gt(0).max(10),
    num_train_epochs: z.number().gt(0).max(10000),
    lr_scheduler_type: z.enum(['linear', 'cosine', 'constant', 'constant_with_warmup']),
    per_device_train_batch_size: int(1, 65536),
    gradient_accumulation_steps: int(1, 1024),
    val_size: z.number().min(0).max(0.9),
    warmup_ratio: z.number().min(0).max(1),
    seed: int(0, 2_147_483_647),
    template: z.string().min(1).max(100).regex(name, 'must be a template name'),
    logging_steps: int(1, 1_000_000),
    save_steps: int(1, 1_000_000),
    weight_decay: z.number().min(0).max(1),
    hidden_size: int(0, 4096),
    step_delay_ms: int(0, 1000),
    bf16: z.boolean(),
  })
  .partial()
  .strict();

export type HyperparameterValues = z.infer<typeof hyperparameterSchema>;
export type HyperparameterKey = keyof HyperparameterValues;
export const HYPERPARAMETER_KEYS = Object.keys(hyperparameterSchema.shape) as HyperparameterKey[];

/** Validates hyperparameters; INVALID_ARGUMENT names the first bad key under `field`. */
export function parseHyperparameters(
  values: Record<string, unknown>,
  field = 'hyperparameters',
): HyperparameterValues {
  const result = hyperparameterSchema.safeParse(values);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key =
    issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.map(String).join('.') || '(root)';
  throw DomainError.invalidArgument(`${field}.${key}`, issue.message);
}

const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Proto message (camelCase, unset = undefined) → validated values. */
export function hyperparametersFromProto(
  message: object | undefined,
  field = 'hyperparameters',
): HyperparameterValues {
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(message ?? {})) if (v !== undefined && v !== null) values[snake(k)] = v;
  return parseHyperparameters(values, field);
}

/** Validated values → proto message fields (camelCase). */
export function hyperparametersToProto(
  values: HyperparameterValues | null | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values ?? {})) if (v !== undefined) out[camel(k)] = v;
  return out;
}
