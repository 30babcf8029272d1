/** A prompt to send and the keywords its answer should contain. */
export interface KeywordProbe {
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  keywords: string[];
}

type Sample = Record<string, unknown>;

const strings = (v: unknown) =>
  Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string' && !!k.trim()) : [];

/** The conversation up to the last user turn of an SFT sample, and its keywords. */
export function keywordProbe(sample: Sample, fallback: string[]): KeywordProbe | undefined {
  const keywords = strings(sample.keywords).length ? strings(sample.keywords) : fallback;
  if (!keywords.length) return undefined;
  const messages: KeywordProbe['messages'] = [];
  if (typeof sample.instruction === 'string') {
    if (typeof sample.system === 'string' && sample.system)
      messages.push({ role: 'system', content: sample.system });
    const input = typeof sample.input === 'string' && sample.input ? `\n${sample.input}` : '';
    messages.push({ role: 'user', content: `${sample.instruction}${input}` });
  } else {
    const turns = (Array.isArray(sample.conversations) ? sample.conversations : sample.messages) as Sample[];
    const role = (t: Sample) => {
      const r = String(t.from ?? t.role);
      return r === 'human' || r === 'user' ? 'user' : r === 'system' ? 'system' : 'assistant';
    };
    const lastUser = turns.map(role).lastIndexOf('user');
    if (lastUser < 0) return undefined;
    for (const t of turns.slice(0, lastUser + 1))
      messages.push({ role: role(t), content: String(t.value ?? t.content ?? '') });
  }
  return { messages, keywords };
}

/** Fraction of keywords the answer contains (case-insensitive). */
export function keywordHitRate(answer: string, keywords: string[]): number {
  const text = answer.toLowerCase();
  return keywords.filter((k) => text.includes(k.toLowerCase())).length / keywords.length;
}
