import type { MetricRow } from '../persistence/metric.entity';

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * One LLaMA-Factory LogCallback record → a training_metrics row: loss, accuracy (or
 * eval_accuracy), lr → learning_rate, vram_allocated → gpu_memory; every other key goes
 * to custom_metrics. Records without `current_steps` are not metrics (undefined).
 */
export function metricFromRecord(
  taskId: number,
  record: Record<string, unknown>,
): Omit<MetricRow, 'id'> | undefined {
  const step = num(record.current_steps);
  if (step === null || !Number.isInteger(step)) return undefined;
  const mapped = new Set(['current_steps', 'loss', 'accuracy', 'eval_accuracy', 'lr', 'vram_allocated']);
  const custom = Object.fromEntries(Object.entries(record).filter(([k]) => !mapped.has(k)));
  return {
    taskId,
    step,
    epoch: Math.floor(num(record.epoch) ?? 0),
    loss: num(record.loss),
    accuracy: num(record.accuracy) ?? num(record.eval_accuracy),
    learningRate: num(record.lr),
    gpuMemory: num(record.vram_allocated),
    customMetrics: custom,
    createdAt: new Date(),
  };
}
