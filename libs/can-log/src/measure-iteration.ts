/** Times a full raw iteration of a log (for benchmarks). */
import { openLog, type OpenLogOptions } from './open-log';
import type { LogSource } from './byte-source';

/** Result of {@link measureIteration}. */
export interface IterationMeasurement {
  frames: number;
  bytes: number;
  seconds: number;
  framesPerSecond: number;
  /** Largest RSS sampled after each batch, in bytes. */
  peakRssBytes: number;
  /** XOR of ids and payload bytes, so the iteration cannot be optimised away. */
  checksum: number;
}

/**
 * Opens a log and iterates every batch, touching ids and payload lengths, and reports
 * throughput and the peak RSS seen.
 */
export async function measureIteration(
  source: LogSource,
  options: OpenLogOptions = {},
): Promise<IterationMeasurement> {
  const t0 = process.hrtime.bigint();
  const reader = await openLog(source, options);
  let frames = 0;
  let checksum = 0;
  let peak = process.memoryUsage.rss();
  let batches = 0;
  for await (const b of reader.batches()) {
    for (let i = 0; i < b.length; i++) checksum ^= b.ids[i] + b.lengths[i];
    frames += b.length;
    if ((++batches & 15) === 0) peak = Math.max(peak, process.memoryUsage.rss());
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    frames,
    bytes: reader.stats.bytesRead,
    seconds,
    framesPerSecond: frames / seconds,
    peakRssBytes: peak,
    checksum,
  };
}
