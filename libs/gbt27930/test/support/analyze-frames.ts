/** Runs the analysis over test frames. */
import {
  ChargingAnalyzer,
  type AnalyzeOptions,
  type ChargingReport,
  type SessionReport,
} from '@charge/gbt27930';
import { streamBatches, type TestFrame } from './frame-builder';

/** Analyzes frames through one reused batch of `batchSize` rows (like a real reader). */
export function analyzeFrames(
  frames: TestFrame[],
  options: AnalyzeOptions = {},
  batchSize = 100,
): ChargingReport {
  const a = new ChargingAnalyzer(options);
  for (const b of streamBatches(frames, batchSize)) a.push(b);
  return a.finish();
}

/** Sorted distinct finding codes of a session. */
export function codes(s: SessionReport): string[] {
  return [...new Set(s.findings.map((f) => f.code))].sort();
}
