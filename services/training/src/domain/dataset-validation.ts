import { DomainError } from '@charge/errors';
import { parseCsv } from './csv';

export type DatasetKind = 'flow_control' | 'sft';

/** A flow-control sample: a feature vector (or named features) and its problem-direction label. */
export interface FeatureSample {
  features: number[] | Record<string, number>;
  label: string;
}

export interface ValidatedDataset {
  /** One normalised JSON document per sample, in file order. */
  samples: string[];
  meta: Record<string, unknown>;
}

const MAX_REPORTED = 20;

type Check = (value: unknown) => string | undefined;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** Checks one flow-control sample; returns why it is bad, or undefined. */
export function checkFeatureSample(value: unknown): string | undefined {
  if (!isRecord(value)) return 'not a JSON object';
  const { features, label } = value;
  if (Array.isArray(features)) {
    if (!features.length) return 'features is empty';
    if (!features.every(finite)) return 'features must be finite numbers';
  } else if (isRecord(features)) {
    const entries = Object.entries(features);
    if (!entries.length) return 'features is empty';
    if (!entries.every(([k, v]) => k.length > 0 && k.length <= 100 && finite(v))) {
      return 'features must map names to finite numbers';
    }
  } else return 'features must be an array of numbers or an object of named numbers';
  if (!((typeof label === 'string' && label.trim() && label.length <= 100) || Number.isInteger(label))) {
    return 'label must be a non-empty string (at most 100 characters) or an integer';
  }
  return undefined;
}

const str = (v: unknown) => typeof v === 'string';
const SHAREGPT_FROM = new Set([
  'human',
  'gpt',
  'system',
  'function_call',
  'observation',
  'user',
  'assistant',
]);
const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

/** Checks one SFT sample (Alpaca or ShareGPT); returns why it is bad, or undefined. */
export function checkSftSample(value: unknown): string | undefined {
  if (!isRecord(value)) return 'not a JSON object';
  if ('instruction' in value || 'output' in value) {
    if (!str(value.instruction) || !(value.instruction as string).trim())
      return 'instruction must be a non-empty string';
    if (!str(value.output)) return 'output must be a string';
    for (const k of ['input', 'system'] as const) {
      if (value[k] !== undefined && !str(value[k])) return `${k} must be a string`;
    }
    return undefined;
  }
  if (Array.isArray(value.conversations)) {
    const turns = value.conversations as unknown[];
    if (turns.length < 2) return 'conversations needs at least two turns';
    const ok = turns.every(
      (t) => isRecord(t) && str(t.from) && SHAREGPT_FROM.has(t.from as string) && str(t.value),
    );
    return ok ? undefined : 'each conversation turn needs `from` (human, gpt, …) and a string `value`';
  }
  if (Array.isArray(value.messages)) {
    const turns = value.messages as unknown[];
    if (turns.length < 2) return 'messages needs at least two turns';
    const ok = turns.every(
      (t) => isRecord(t) && str(t.role) && ROLES.has(t.role as string) && str(t.content),
    );
    return ok ? undefined : 'each message needs `role` (system, user, assistant) and a string `content`';
  }
  return 'neither Alpaca ({instruction, input, output}) nor ShareGPT ({conversations} or {messages})';
}

const CSV_COLUMNS = ['instruction', 'input', 'output', 'system'];

/** CSV with a header naming Alpaca columns (instruction and output required) → samples. */
function csvItems(text: string, items: { position: number; value?: unknown; error?: string }[]): void {
  const { records, error } = parseCsv(text);
  const [header, ...rows] = records;
  if (!header) return;
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  const unknown = columns.filter((c) => !CSV_COLUMNS.includes(c));
  if (
    unknown.length ||
    !columns.includes('instruction') ||
    !columns.includes('output') ||
    new Set(columns).size !== columns.length
  ) {
    throw DomainError.invalidArgument(
      'chunk',
      `line ${header.line}: the CSV header must name instruction and output (and optionally input, system), each once`,
      'DATASET_INVALID_LINES',
    );
  }
  for (const row of rows) {
    if (row.fields.length !== columns.length) {
      items.push({
        position: row.line,
        error: `has ${row.fields.length} fields, the header ${columns.length}`,
      });
      continue;
    }
    items.push({ position: row.line, value: Object.fromEntries(columns.map((c, i) => [c, row.fields[i]])) });
  }
  if (error) items.push({ position: error.line, error: error.why });
}

function sampleStyle(value: Record<string, unknown>): string {
  if ('instruction' in value) return 'alpaca';
  return 'conversations' in value ? 'sharegpt' : 'openai_messages';
}

/**
 * Validates an uploaded file sample by sample. JSON Lines for both kinds; a JSON array is
 * also accepted for SFT. Throws INVALID_ARGUMENT listing every bad line (the first 20 with
 * their reason in the message; all of them, up to 1000, in the `lines` metadata).
 */
export function validateDataset(kind: DatasetKind, bytes: Buffer, fileName = ''): ValidatedDataset {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw DomainError.invalidArgument('chunk', 'the file is not valid UTF-8', 'DATASET_ENCODING');
  }
  const check: Check = kind === 'flow_control' ? checkFeatureSample : checkSftSample;
  const items: { position: number; value?: unknown; error?: string }[] = [];
  let format = 'jsonl';
  if (kind === 'sft' && /\.csv$/i.test(fileName)) {
    format = 'csv';
    csvItems(text, items);
  } else if (kind === 'sft' && text.trimStart().startsWith('[')) {
    format = 'json';
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw DomainError.invalidArgument(
        'chunk',
        `the JSON array does not parse: ${(error as Error).message}`,
        'DATASET_INVALID',
      );
    }
    if (!Array.isArray(parsed))
      throw DomainError.invalidArgument('chunk', 'expected a JSON array of samples', 'DATASET_INVALID');
    parsed.forEach((value, i) => items.push({ position: i + 1, value }));
  } else {
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      try {
        items.push({ position: i + 1, value: JSON.parse(line) });
      } catch {
        items.push({ position: i + 1, error: 'not valid JSON' });
      }
    });
  }
  const bad: { position: number; why: string }[] = [];
  const samples: string[] = [];
  let width: number | undefined;
  let firstShape: 'array' | 'object' | undefined;
  const labels: Record<string, number> = {};
  const featureNames = new Set<string>();
  const styles: Record<string, number> = {};
  for (const item of items) {
    let why = item.error ?? check(item.value);
    if (!why && kind === 'flow_control') {
      const sample = item.value as Record<string, unknown>;
      const shape = Array.isArray(sample.features) ? 'array' : 'object';
      firstShape ??= shape;
      if (shape !== firstShape) why = `features is an ${shape}, earlier samples an ${firstShape}`;
      else if (Array.isArray(sample.features)) {
        width ??= sample.features.length;
        if (sample.features.length !== width)
          why = `features has ${sample.features.length} values, earlier samples ${width}`;
      } else {
        for (const k of Object.keys(sample.features as object)) featureNames.add(k);
      }
    }
    if (why) {
      bad.push({ position: item.position, why });
      continue;
    }
    const value = item.value as Record<string, unknown>;
    if (kind === 'flow_control') {
      const label = String(value.label).trim();
      labels[label] = (labels[label] ?? 0) + 1;
      samples.push(JSON.stringify({ features: value.features, label }));
    } else {
      const style = sampleStyle(value);
      styles[style] = (styles[style] ?? 0) + 1;
      samples.push(JSON.stringify(value));
    }
  }
  if (bad.length) {
    const noun = format === 'json' ? 'sample' : 'line';
    const listed = bad.slice(0, MAX_REPORTED).map((b) => `${noun} ${b.position}: ${b.why}`);
    const more = bad.length > MAX_REPORTED ? ` (and ${bad.length - MAX_REPORTED} more)` : '';
    throw new DomainError(
      'invalidArgument',
      `chunk: ${bad.length} invalid ${noun}(s): ${listed.join('; ')}${more}`,
      {
        field: 'chunk',
        reason: 'DATASET_INVALID_LINES',
        metadata: {
          lines: bad
            .slice(0, 1000)
            .map((b) => b.position)
            .join(','),
        },
      },
    );
  }
  if (!samples.length) throw DomainError.invalidArgument('chunk', 'the file has no samples', 'DATASET_EMPTY');
  if (kind === 'flow_control' && width === undefined && featureNames.size === 0) {
    throw DomainError.invalidArgument('chunk', 'no features', 'DATASET_EMPTY');
  }
  const meta: Record<string, unknown> =
    kind === 'flow_control'
      ? { format, style: 'features', labels, feature_count: width ?? featureNames.size }
      : { format, styles };
  return { samples, meta };
}
