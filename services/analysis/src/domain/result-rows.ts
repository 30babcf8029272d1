import type { ChargingReport } from '@charge/gbt27930';

/** A row of analysis_results before insertion. */
export interface ResultRowInput {
  resultType: 'summary' | 'finding' | 'recommendation';
  title: string;
  content: string;
  confidenceScore: number | null;
  metaInfo: Record<string, unknown> | null;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** One `recommendation` row per LLM recommendation, with the verdict's confidence. */
export function recommendationRows(recommendations: string[], confidence: number): ResultRowInput[] {
  return recommendations.map((text, i) => ({
    resultType: 'recommendation' as const,
    title: clip(`Recommendation ${i + 1}`, 200),
    content: text,
    confidenceScore: confidence,
    metaInfo: { index: i, source: 'llm' },
  }));
}

/** The summary row and one row per finding, in report order (rule-based: confidence 1). */
export function resultRows(report: ChargingReport): ResultRowInput[] {
  const findings = report.sessions.flatMap((s) => s.findings.map((f) => ({ session: s.index, f })));
  const problems = findings.filter(({ f }) => f.severity !== 'info');
  const sessionLines = report.sessions.map(
    (s) =>
      `session ${s.index}: GB/T ${s.edition}, last phase ${s.lastPhase}, stopped by ${s.stopInitiator}, ` +
      `SOC ${s.stats.socStart ?? '?'} → ${s.stats.socEnd ?? '?'} %, ${s.findings.length} finding(s)`,
  );
  const summary: ResultRowInput = {
    resultType: 'summary',
    title: clip(
      `${report.file.format.toUpperCase()} log: ${report.sessions.length} session(s), ${problems.length} problem(s)`,
      200,
    ),
    content: [
      `${report.file.canFrames} CAN frames, ${report.file.errorFrames} error frames`,
      ...sessionLines,
    ].join('\n'),
    confidenceScore: 1,
    metaInfo: {
      sessions: report.sessions.length,
      canFrames: report.file.canFrames,
      errorFrames: report.file.errorFrames,
      findings: findings.length,
      problems: problems.length,
      codes: [...new Set(findings.map(({ f }) => f.code))],
    },
  };
  return [
    summary,
    ...findings.map(({ session, f }) => ({
      resultType: 'finding' as const,
      title: clip(`${f.code} (session ${session})`, 200),
      content: f.message,
      confidenceScore: 1,
      metaInfo: {
        code: f.code,
        severity: f.severity,
        session,
        startTime: f.startTime,
        endTime: f.endTime,
        evidence: f.evidence,
      },
    })),
  ];
}
