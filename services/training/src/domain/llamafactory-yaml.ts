import { DomainError } from '@charge/errors';
import { HYPERPARAMETER_KEYS, parseHyperparameters, type HyperparameterValues } from './hyperparameters';

export type YamlScalar = string | number | boolean | null;

/**
 * Reads the flat `key: value` YAML that LLaMA-Factory's training files use: one scalar per
 * line, `#` comments, blank lines, an optional leading `---`. Nested mappings, lists,
 * flow collections, anchors, tags and block scalars are rejected with the line number —
 * this is a strict subset reader, not a YAML parser.
 */
export function readFlatYaml(text: string): Map<string, YamlScalar> {
  const out = new Map<string, YamlScalar>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const bad = (why: string) =>
      DomainError.invalidArgument('yaml', `line ${lineNo}: ${why}`, 'YAML_UNSUPPORTED');
    const line = raw.replace(/\s+$/, '');
    if (!line.trim() || line.trimStart().startsWith('#')) return;
    if (lineNo === 1 && line === '---') return;
    if (/^\s/.test(line)) throw bad('nested values are not supported (flat key: value lines only)');
    const m = /^([A-Za-z_][A-Za-z0-9_.-]*)\s*:(?:\s+(.*))?$/.exec(line);
    if (!m) throw bad('expected `key: value`');
    const key = m[1];
    if (out.has(key)) throw bad(`duplicate key ${key}`);
    out.set(key, parseScalar(m[2] ?? '', bad));
  });
  return out;
}

function parseScalar(source: string, bad: (why: string) => DomainError): YamlScalar {
  let text = source.trim();
  if (text.startsWith('"')) {
    const end = closingDoubleQuote(text);
    if (end < 0) throw bad('unterminated double-quoted string');
    rejectTrailing(text.slice(end + 1), bad);
    try {
      return JSON.parse(text.slice(0, end + 1)) as string;
    } catch {
      throw bad('invalid escape in double-quoted string');
    }
  }
  if (text.startsWith("'")) {
    const m = /^'((?:[^']|'')*)'(.*)$/.exec(text);
    if (!m) throw bad('unterminated single-quoted string');
    rejectTrailing(m[2], bad);
    return m[1].replace(/''/g, "'");
  }
  const comment = text.search(/\s#/);
  if (comment >= 0) text = text.slice(0, comment).trim();
  if (/^[[{&*!|>%@`]/.test(text) || text.startsWith('- ')) throw bad('only plain scalars are supported');
  if (text === '' || text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (/:\s/.test(text)) throw bad('nested mappings are not supported');
  return text;
}

function closingDoubleQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

function rejectTrailing(rest: string, bad: (why: string) => DomainError): void {
  if (rest.trim() && !/^\s+#/.test(rest)) throw bad('unexpected text after a quoted string');
}

/** Writes one scalar so that readFlatYaml (and PyYAML) read back the same value. */
export function writeScalar(value: Exclude<YamlScalar, null>): string {
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} as YAML`);
    const s = String(value);
    // PyYAML (YAML 1.1) reads `1e-05` as a string; `1.0e-05` is a float.
    return /e/.test(s) && !s.includes('.') ? s.replace('e', '.0e') : s;
  }
  const plain = /^[A-Za-z0-9_./][A-Za-z0-9_.,/ -]*$/.test(value) && !value.endsWith(' ');
  const ambiguous = /^(true|false|null|yes|no|on|off|~)$/i.test(value) || /^[-+]?(\d|\.\d)/.test(value);
  return plain && !ambiguous ? value : JSON.stringify(value);
}

/** Keys of a LLaMA-Factory file that the runner sets per task; accepted on import and ignored. */
const RUNNER_KEYS = new Set([
  'do_train',
  'dataset',
  'dataset_dir',
  'output_dir',
  'overwrite_output_dir',
  'overwrite_cache',
  'plot_loss',
  'preprocessing_num_workers',
  'dataloader_num_workers',
  'report_to',
  'trust_remote_code',
  'ddp_timeout',
  'resume_from_checkpoint',
  'max_samples',
  'per_device_eval_batch_size',
  'eval_strategy',
  'eval_steps',
  'save_only_model',
  'logging_dir',
  'run_name',
]);

export interface ImportedConfig {
  modelPath: string;
  adapterType: string;
  hyperparameters: HyperparameterValues;
}

/** A LLaMA-Factory training YAML → config fields; every key validated. */
export function importLlamaFactoryYaml(text: string): ImportedConfig {
  const entries = readFlatYaml(text);
  const modelPath = entries.get('model_name_or_path');
  if (typeof modelPath !== 'string' || !modelPath) {
    throw DomainError.invalidArgument('yaml.model_name_or_path', 'is required and must be a string');
  }
  const values: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    if (key === 'model_name_or_path' || RUNNER_KEYS.has(key)) continue;
    if (!(HYPERPARAMETER_KEYS as string[]).includes(key)) {
      throw DomainError.invalidArgument(`yaml.${key}`, 'unknown or unsupported key');
    }
    if (value !== null) values[key] = value;
  }
  const hyperparameters = parseHyperparameters(values, 'yaml');
  return { modelPath, adapterType: hyperparameters.finetuning_type ?? 'lora', hyperparameters };
}

/** Config fields → a LLaMA-Factory training YAML, in LLaMA-Factory's section order. */
export function exportLlamaFactoryYaml(config: {
  name: string;
  modelPath: string;
  hyperparameters?: HyperparameterValues | null;
}): string {
  const hp = config.hyperparameters ?? {};
  const lines = [`# ${config.name.replace(/[\r\n]/g, ' ')} (charge-analysis training config)`, '### model'];
  lines.push(`model_name_or_path: ${writeScalar(config.modelPath)}`);
  for (const key of HYPERPARAMETER_KEYS) {
    const value = hp[key];
    if (value !== undefined) lines.push(`${key}: ${writeScalar(value)}`);
  }
  return `${lines.join('\n')}\n`;
}
