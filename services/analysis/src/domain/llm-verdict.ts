import { z } from 'zod';
import type { ChargingReport } from '@charge/gbt27930';

/** Confidence a verdict needs; below it after the last round → max_iterations_reached. */
export const CONFIDENCE_THRESHOLD = 0.7;

/** The answer the LLM must give (validated; invalid twice in a round → validation_failed). */
export const verdictSchema = z.object({
  summary: z.string().min(1),
  isGbt2015Charger: z.boolean(),
  responsibility: z.enum(['vehicle', 'charger', 'both', 'unknown']),
  stageBreakdown: z.array(
    z.object({
      stage: z.string().min(1),
      issue: z.string().min(1),
      evidence: z.array(z.string().min(1)).min(1),
    }),
  ),
  rootCauses: z.array(z.string().min(1)),
  recommendations: z.array(z.string().min(1)),
  confidence: z.number().min(0).max(1),
  neededEvidence: z.array(z.string()),
});

export type Verdict = z.infer<typeof verdictSchema>;

/** A citable item: a finding of the report (`F1`, `F2`, …) or a knowledge passage (`P1`, …). */
export interface Citation {
  id: string;
  text: string;
}

/** The findings of a report as citations, in report order. */
export function findingCitations(report: ChargingReport): Citation[] {
  return report.sessions
    .flatMap((s) => s.findings)
    .map((f, i) => ({
      id: `F${i + 1}`,
      text: `${f.code} [${f.severity}] ${f.startTime}–${f.endTime}: ${f.message}`,
    }));
}

/**
 * Parses and validates an answer: JSON, the schema, and every stage claim citing known
 * citation ids. Returns the verdict or the reason it is invalid.
 */
export function checkVerdict(
  content: string,
  citations: Citation[],
): { verdict: Verdict } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(content.replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch {
    return { problem: 'the answer is not JSON' };
  }
  const parsed = verdictSchema.safeParse(json);
  if (!parsed.success) {
    return {
      problem: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    };
  }
  const known = new Set(citations.map((c) => c.id));
  for (const [i, item] of parsed.data.stageBreakdown.entries()) {
    const unknown = item.evidence.filter((e) => !known.has(e));
    if (unknown.length)
      return {
        problem: `stageBreakdown.${i}.evidence cites unknown ids ${unknown.join(', ')} (use ${[...known].join(', ') || 'none'})`,
      };
  }
  return { verdict: parsed.data };
}

/** The prompt of a round: the session summary, the findings to cite, the passages. */
export function buildMessages(
  report: ChargingReport,
  citations: Citation[],
  knowledgeNote: string,
  feedback: string[],
): { role: 'system' | 'user'; content: string }[] {
  const sessions = report.sessions.map(
    (s) =>
      `session ${s.index}: GB/T ${s.edition}, ${s.startTime}–${s.endTime}, last phase ${s.lastPhase}, ` +
      `stopped by ${s.stopInitiator}, SOC ${s.stats.socStart ?? '?'}→${s.stats.socEnd ?? '?'} %, ` +
      `max output ${s.stats.maxOutputVoltageV ?? '?'} V / ${s.stats.maxOutputCurrentA ?? '?'} A`,
  );
  const findings = citations.filter((c) => c.id.startsWith('F'));
  const passages = citations.filter((c) => c.id.startsWith('P'));
  return [
    {
      role: 'system',
      content:
        'You are a GB/T 27930 DC charging diagnosis expert. Answer with one JSON object only: ' +
        '{"summary": string, "isGbt2015Charger": boolean, "responsibility": "vehicle"|"charger"|"both"|"unknown", ' +
        '"stageBreakdown": [{"stage": string, "issue": string, "evidence": [citation ids]}], "rootCauses": [string], ' +
        '"recommendations": [string], "confidence": number 0..1, "neededEvidence": [string]}. ' +
        'Every stageBreakdown claim must cite at least one of the given ids (F… findings, P… passages).',
    },
    {
      role: 'user',
      content: [
        `Log: ${report.file.format}, ${report.file.canFrames} CAN frames, ${report.file.errorFrames} error frames.`,
        ...sessions,
        'Findings:',
        ...(findings.length ? findings.map((c) => `${c.id}: ${c.text}`) : ['(none)']),
        `Knowledge passages (evidence to cite as P…; ${knowledgeNote}):`,
        ...(passages.length ? passages.map((c) => `${c.id}: ${c.text}`) : ['(none)']),
        ...feedback,
      ].join('\n'),
    },
  ];
}
