import type { DatasetKind } from './dataset-validation';

/** How a config selects training samples from its dataset. */
export type DatasetStrategy = 'full' | 'balanced' | 'high_quality';

function shuffledIndexes(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

type Sample = Record<string, unknown>;

/** The prompt and the answer of an SFT sample (Alpaca, ShareGPT or messages). */
function sftPromptAndAnswer(s: Sample): [string, string] {
  if (typeof s.instruction === 'string')
    return [`${s.instruction}\n${String(s.input ?? '')}`, String(s.output ?? '')];
  const turns = (Array.isArray(s.conversations) ? s.conversations : s.messages) as Sample[];
  const text = (t: Sample) => String(t.value ?? t.content ?? '');
  const from = (t: Sample) => String(t.from ?? t.role ?? '');
  const prompt = turns.find((t) => ['human', 'user'].includes(from(t)));
  const answers = turns.filter((t) => ['gpt', 'assistant'].includes(from(t)));
  return [prompt ? text(prompt) : '', answers.length ? text(answers[answers.length - 1]) : ''];
}

/**
 * Selects the samples a run trains on (deterministic for a seed, so a resumed run sees
 * the same data):
 * - `full`: every sample;
 * - `balanced`: flow_control — the same number of samples per label (the rarest label's
 *   count); sft — one sample per distinct prompt;
 * - `high_quality`: exact duplicates dropped; flow_control — feature vectors seen with
 *   conflicting labels dropped; sft — empty or trivial answers and answers that repeat
 *   the prompt dropped.
 * Returns the kept lines in their original order.
 */
export function selectSamples(
  kind: DatasetKind,
  strategy: DatasetStrategy,
  lines: string[],
  seed = 42,
): string[] {
  if (strategy === 'full') return lines;
  const samples = lines.map((l) => JSON.parse(l) as Sample);
  const keep = new Set<number>();
  if (strategy === 'balanced') {
    const groups = new Map<string, number[]>();
    samples.forEach((s, i) => {
      const key = kind === 'flow_control' ? String(s.label) : sftPromptAndAnswer(s)[0].trim();
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const quota = kind === 'flow_control' ? Math.min(...[...groups.values()].map((g) => g.length)) : 1;
    const order = shuffledIndexes(lines.length, seed);
    const taken = new Map<string, number>();
    for (const i of order) {
      const s = samples[i];
      const key = kind === 'flow_control' ? String(s.label) : sftPromptAndAnswer(s)[0].trim();
      if ((taken.get(key) ?? 0) < quota) {
        taken.set(key, (taken.get(key) ?? 0) + 1);
        keep.add(i);
      }
    }
  } else {
    const seen = new Set<string>();
    const labelsOf = new Map<string, Set<string>>();
    if (kind === 'flow_control') {
      for (const s of samples) {
        const key = JSON.stringify(s.features);
        labelsOf.set(key, (labelsOf.get(key) ?? new Set()).add(String(s.label)));
      }
    }
    lines.forEach((line, i) => {
      if (seen.has(line)) return;
      seen.add(line);
      const s = samples[i];
      if (kind === 'flow_control') {
        if (labelsOf.get(JSON.stringify(s.features))!.size > 1) return;
      } else {
        const [prompt, answer] = sftPromptAndAnswer(s);
        if (answer.trim().length < 2 || answer.trim() === prompt.trim()) return;
      }
      keep.add(i);
    });
  }
  return lines.filter((_, i) => keep.has(i));
}
