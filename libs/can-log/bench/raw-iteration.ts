/**
 * Dev benchmark: writes a ~2M-frame BLF with our writer to /tmp and times raw iteration.
 *   npx tsx libs/can-log/bench/raw-iteration.ts [frames] [path]
 */
import { statSync, readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { measureIteration, writeSyntheticBlf } from '@charge/can-log';

async function inflateOnlySeconds(path: string): Promise<number> {
  // Baseline: inflate every container payload, nothing else.
  const buf = readFileSync(path);
  const t0 = process.hrtime.bigint();
  let p = buf.readUInt32LE(4);
  while (p + 32 <= buf.length) {
    const size = buf.readUInt32LE(p + 8);
    inflateSync(buf.subarray(p + 32, p + size));
    p += size + (size % 4);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  const frames = Number(process.argv[2] ?? 2_060_000);
  const path = process.argv[3] ?? '/tmp/can-log-bench.blf';
  const t0 = Date.now();
  await writeSyntheticBlf(path, {
    frames,
    seed: 42,
    channels: 2,
    blf: { measurementStart: new Date(), compressionLevel: 6 },
  });
  const size = statSync(path).size;
  console.log(
    `wrote ${frames} frames, ${(size / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(2)} s`,
  );
  const inflate = await inflateOnlySeconds(path);
  console.log(`inflate-only baseline: ${inflate.toFixed(3)} s`);
  for (let run = 0; run < 3; run++) {
    const m = await measureIteration(path);
    console.log(
      `run ${run + 1}: ${m.frames} frames in ${m.seconds.toFixed(3)} s = ${(m.framesPerSecond / 1e6).toFixed(2)} M frames/s ` +
        `(${(m.seconds / inflate).toFixed(2)}× inflate), peak RSS ${(m.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
