/** Builds FrameBatches for tests (in place of, or alongside, can-log's readers). */
import { createBatch, FrameFlag, MAX_PAYLOAD, type FrameBatch } from '@charge/can-log';

/** One frame for a test. */
export interface TestFrame {
  t: number;
  id: number;
  data: number[] | Uint8Array;
  flags?: number;
  channel?: number;
}

/** Packs frames into batches of `size` rows (a fresh batch each, or one reused batch when `reuse`). */
export function toBatches(frames: TestFrame[], size = 256, reuse = false): FrameBatch[] {
  const out: FrameBatch[] = [];
  let b = createBatch(size);
  for (const f of frames) {
    if (b.length === size) {
      out.push(b);
      b = reuse ? b : createBatch(size);
      if (reuse) throw new Error('reuse requires a consumer; use streamBatches');
    }
    put(b, f);
  }
  if (b.length) out.push(b);
  return out;
}

/** Yields frames in one reused batch (like a real reader). */
export function* streamBatches(frames: Iterable<TestFrame>, size = 256): Generator<FrameBatch> {
  const b = createBatch(size);
  for (const f of frames) {
    if (b.length === size) {
      yield b;
      b.length = 0;
    }
    put(b, f);
  }
  if (b.length) yield b;
}

function put(b: FrameBatch, f: TestFrame): void {
  const i = b.length++;
  b.timestamps[i] = f.t;
  b.ids[i] = f.id;
  b.flags[i] = f.flags ?? FrameFlag.Extended;
  b.channels[i] = f.channel ?? 1;
  const n = f.data.length;
  b.lengths[i] = n;
  b.dlcs[i] =
    n <= 8 ? n : n <= 12 ? 9 : n <= 16 ? 10 : n <= 20 ? 11 : n <= 24 ? 12 : n <= 32 ? 13 : n <= 48 ? 14 : 15;
  b.data.set(f.data, i * MAX_PAYLOAD);
}
