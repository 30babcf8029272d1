/** Stored statuses. Transitions only move forward: pending → processing → one terminal status. */
export const ANALYSIS_STATUSES = [
  'pending',
  'processing',
  'completed',
  'failed',
  'cancelled',
  'validation_failed',
  'max_iterations_reached',
] as const;
export type AnalysisStatus = (typeof ANALYSIS_STATUSES)[number];

export const TERMINAL_STATUSES: readonly AnalysisStatus[] = [
  'completed',
  'failed',
  'cancelled',
  'validation_failed',
  'max_iterations_reached',
];

/** Statuses from which cancellation is possible. */
export const ACTIVE_STATUSES: readonly AnalysisStatus[] = ['pending', 'processing'];

export function isTerminal(status: AnalysisStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export const ANALYSIS_STAGES = [
  'queued',
  'validating',
  'parsing',
  'diagnosing',
  'retrieving_evidence',
  'refining',
  'reporting',
  'done',
] as const;
export type AnalysisStage = (typeof ANALYSIS_STAGES)[number];

/**
 * Overall progress (0..1) of the parsing stage from the reader's byte fraction: parsing
 * spans 0.05–0.90, the rest is validation before and reporting after.
 */
export function parsingProgress(fraction: number | undefined): number {
  const f = fraction === undefined || !Number.isFinite(fraction) ? 0 : Math.min(1, Math.max(0, fraction));
  return Math.round((0.05 + 0.85 * f) * 10_000) / 10_000;
}

export const PROGRESS = {
  validating: 0.02,
  parsingStart: 0.05,
  refining: 0.91,
  reporting: 0.95,
  done: 1,
} as const;
