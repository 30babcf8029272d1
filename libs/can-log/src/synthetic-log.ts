/**
 * Deterministic synthetic CAN traffic, for benchmarks and test fixtures: a GB/T-27930-like
 * mix of 29-bit ids on a few channels with optional CAN FD and error frames.
 */
import type { WriteTarget } from './byte-sink';
import { createBlfWriter, type BlfWriterOptions } from './blf-writer';
import { createBatch, FrameFlag, MAX_PAYLOAD, type FrameBatch } from './frame';
import type { LogWriter } from './frame-input';

/** Options of {@link writeSyntheticFrames}. */
export interface SyntheticOptions {
  /** Number of frames to write. */
  frames: number;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Channels 1..n (default 2). */
  channels?: number;
  /** Share of CAN FD frames, 0..1 (default 0). */
  fdShare?: number;
  /** Share of error frames, 0..1 (default 0). */
  errorShare?: number;
  /** Seconds between frames (default 0.0005). */
  period?: number;
}

/** A small, fast, seedable PRNG (mulberry32). Returns a function yielding [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IDS = [
  0x1826f456, 0x182756f4, 0x1801f456, 0x1cec56f4, 0x1ceb56f4, 0x181056f4, 0x1812f456, 0x100, 0x6a9,
];
const FD_LENGTHS = [12, 16, 20, 24, 32, 48, 64];

/** Fills `batch` with up to its capacity of synthetic frames starting at frame number `start`. */
export function fillSyntheticBatch(
  batch: FrameBatch,
  start: number,
  count: number,
  rnd: () => number,
  o: SyntheticOptions,
): void {
  const channels = o.channels ?? 2;
  const period = o.period ?? 0.0005;
  const n = Math.min(count, batch.timestamps.length);
  for (let i = 0; i < n; i++) {
    const k = start + i;
    const r = rnd();
    const id = IDS[k % IDS.length];
    let flags = id > 0x7ff ? FrameFlag.Extended : 0;
    let len = (k % 9) as number;
    let dlc = len;
    if (r < (o.errorShare ?? 0)) {
      flags = FrameFlag.Error;
      len = 0;
      dlc = 0;
    } else if (r > 1 - (o.fdShare ?? 0)) {
      flags |= FrameFlag.Fd | FrameFlag.Brs;
      const j = k % FD_LENGTHS.length;
      len = FD_LENGTHS[j];
      dlc = 9 + j;
    }
    if (k % 7 === 3) flags |= FrameFlag.Tx;
    batch.timestamps[i] = k * period;
    batch.ids[i] = flags & FrameFlag.Error ? 0 : id;
    batch.flags[i] = flags;
    batch.channels[i] = 1 + (k % channels);
    batch.dlcs[i] = dlc;
    batch.lengths[i] = len;
    const base = i * MAX_PAYLOAD;
    for (let b = 0; b < len; b++) batch.data[base + b] = (k + b * 31) & 0xff;
  }
  batch.length = n;
}

/** Writes `options.frames` synthetic frames to any writer (does not close it). */
export async function writeSyntheticFrames(writer: LogWriter, options: SyntheticOptions): Promise<void> {
  const rnd = seededRandom(options.seed ?? 1);
  const batch = createBatch(4096);
  for (let done = 0; done < options.frames; done += batch.length) {
    fillSyntheticBatch(batch, done, options.frames - done, rnd, options);
    await writer.writeBatch(batch);
  }
}

/** Writes a synthetic BLF file (or sink) and closes it. */
export async function writeSyntheticBlf(
  target: WriteTarget,
  options: SyntheticOptions & { blf?: BlfWriterOptions },
): Promise<void> {
  const w = await createBlfWriter(
    target,
    options.blf ?? { measurementStart: new Date(Date.UTC(2024, 0, 1)) },
  );
  try {
    await writeSyntheticFrames(w, options);
  } finally {
    await w.close();
  }
}
