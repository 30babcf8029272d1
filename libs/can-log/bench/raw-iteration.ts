/**
 * Dev benchmark: writes a ~2M-frame BLF with our writer to /tmp and times raw iteration.
 *
 *   npx tsx libs/can-log/bench/raw-iteration.ts [frames] [path]
 *
 * Each timed iteration runs in a fresh child process so that its peak RSS (maxRSS) is
 * not polluted by writing the file or by the inflate-only baseline.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { measureIteration, writeSyntheticBlf } from '@charge/can-log';

/** Baseline: inflate every container payload of a file we wrote (one container per top-level object). */
function inflateOnlySeconds(path: string): number {
  const buf = readFileSync(path);
  const t0 = process.hrtime.bigint();
  let p = buf.readUInt32LE(4);
  while (p + 32 <= buf.length) {
    const size = buf.readUInt32LE(p + 8);
    inflateSync(buf.subarray(p + 32, p + size), { chunkSize: 256 * 1024 });
    p += size + (size % 4);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function child(path: string): Promise<void> {
  const m = await measureIteration(path);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ ...m, maxRss }));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--iterate') return child(process.argv[3]);
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
  const inflate = inflateOnlySeconds(path);
  console.log(`inflate-only baseline (whole file in memory): ${inflate.toFixed(3)} s`);
  for (let run = 0; run < 3; run++) {
    const out = execFileSync(process.execPath, [...process.execArgv, __filename, '--iterate', path], {
      encoding: 'utf8',
    });
    const m = JSON.parse(out) as { frames: number; seconds: number; framesPerSecond: number; maxRss: number };
    console.log(
      `run ${run + 1}: ${m.frames} frames in ${m.seconds.toFixed(3)} s = ${(m.framesPerSecond / 1e6).toFixed(2)} M frames/s ` +
        `(${(m.seconds / inflate).toFixed(2)}× inflate-only), peak RSS of the process ${(m.maxRss / 2 ** 20).toFixed(0)} MiB`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
