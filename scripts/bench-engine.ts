/**
 * `npm run bench:engine`: writes a 2,000,000-frame realistic GB/T 27930 session as BLF
 * (@charge/gbt27930's `writeSampleSession`, ending in a manual stop), then times, each in a
 * fresh child process, our full analysis, our raw frame iteration and python-can's BLFReader
 * over the same file, and prints frames/s, the ratios and our peak RSS.
 *
 * Each measurement is the best of `--runs` (default 3) cold runs, to damp the noise of a
 * shared machine; python-can gets the same treatment.
 *
 *   npm run bench:engine [-- --frames N] [--runs N] [--keep]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_PAYLOAD, openLog } from '@charge/can-log';
import { analyzeLog, writeSampleSession } from '@charge/gbt27930';

const TARGET_ANALYZE = 1_000_000;
const TARGET_RAW = 3_000_000;
const TARGET_RATIO = 5;
const TARGET_RSS_MB = 300;

interface Measurement {
  frames: number;
  seconds: number;
  maxRssMb: number;
  sessions?: number;
}

// ----------------------------------------------------------------- child modes

async function measureAnalyze(file: string): Promise<Measurement> {
  const t0 = process.hrtime.bigint();
  const report = await analyzeLog(await openLog(file));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const frames = report.file.canFrames + report.file.errorFrames;
  return {
    frames,
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    sessions: report.sessions.length,
  };
}

async function measureRaw(file: string): Promise<Measurement> {
  const t0 = process.hrtime.bigint();
  const log = await openLog(file);
  let frames = 0;
  let checksum = 0;
  for await (const b of log.batches()) {
    frames += b.length;
    for (let i = 0; i < b.length; i++) checksum = (checksum + b.ids[i] + b.data[i * MAX_PAYLOAD]) | 0;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (checksum === 0.5) console.log('unreachable');
  return { frames, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

function measurePythonCan(file: string): Measurement | string {
  const code = [
    'import can, sys, time, resource',
    't0 = time.perf_counter()',
    'n = 0',
    'for msg in can.BLFReader(sys.argv[1]):',
    '    n += 1',
    'dt = time.perf_counter() - t0',
    'print(n, dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', code, file], { encoding: 'utf8' });
  if (r.status !== 0)
    return `python-can failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  const [n, s, rss] = r.stdout.trim().split(/\s+/).map(Number);
  return { frames: n, seconds: s, maxRssMb: rss };
}

// ----------------------------------------------------------------- orchestration

function child(mode: string, file: string): Measurement {
  const r = spawnSync(process.execPath, [...process.execArgv, __filename, '--measure', mode, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${mode} run failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const m = args.indexOf('--measure');
  if (m >= 0) {
    const [mode, file] = [args[m + 1], args[m + 2]];
    const r = mode === 'analyze' ? await measureAnalyze(file) : await measureRaw(file);
    console.log(JSON.stringify(r));
    return;
  }
  const fi = args.indexOf('--frames');
  const frames = fi >= 0 ? Number(args[fi + 1]) : 2_000_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-engine-'));
  const file = path.join(dir, 'gbt-session.blf');
  try {
    let t0 = Date.now();
    const { frames: n } = await writeSampleSession(file, { frames, fault: 'none' });
    console.log(
      `wrote ${fmt(n)} frames (${(fs.statSync(file).size / 1e6).toFixed(1)} MB BLF) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    t0 = Date.now();
    const ri = args.indexOf('--runs');
    const runs = ri >= 0 ? Math.max(1, Number(args[ri + 1])) : 3;
    const best = <T extends Measurement | string>(f: () => T): T => {
      let b: T | undefined;
      for (let k = 0; k < runs; k++) {
        const x = f();
        if (typeof x === 'string') return x;
        if (b === undefined || (x as Measurement).seconds < (b as Measurement).seconds) b = x;
      }
      return b!;
    };
    const analyze = best(() => child('analyze', file));
    const raw = best(() => child('raw', file));
    const py = best(() => measurePythonCan(file));
    console.log(`best of ${runs} cold runs each`);
    const rate = (x: Measurement) => x.frames / x.seconds;
    const rows: [string, Measurement | string][] = [
      ['our full analyze', analyze],
      ['our raw iteration', raw],
      ['python-can BLFReader', py],
    ];
    for (const [name, x] of rows) {
      if (typeof x === 'string') console.log(`${name.padEnd(22)} ${x}`);
      else
        console.log(
          `${name.padEnd(22)} ${fmt(x.frames)} frames in ${x.seconds.toFixed(2)} s = ${fmt(rate(x)).padStart(11)} frames/s, peak RSS ${x.maxRssMb.toFixed(0)} MB`,
        );
    }
    const checks: [string, boolean][] = [
      [`full analyze ≥ ${fmt(TARGET_ANALYZE)} frames/s`, rate(analyze) >= TARGET_ANALYZE],
      [`raw iteration ≥ ${fmt(TARGET_RAW)} frames/s`, rate(raw) >= TARGET_RAW],
      [`analyze peak RSS < ${TARGET_RSS_MB} MB`, analyze.maxRssMb < TARGET_RSS_MB],
    ];
    if (typeof py !== 'string') {
      const ra = rate(analyze) / rate(py);
      const rr = rate(raw) / rate(py);
      console.log(`ratios vs python-can: analyze ${ra.toFixed(1)}×, raw ${rr.toFixed(1)}×`);
      checks.push(
        [`analyze ≥ ${TARGET_RATIO}× python-can`, ra >= TARGET_RATIO],
        [`raw ≥ ${TARGET_RATIO}× python-can`, rr >= TARGET_RATIO],
      );
    }
    console.log(`analysis sessions found: ${analyze.sessions}`);
    for (const [name, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}`);
    process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
  } finally {
    if (!args.includes('--keep')) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${file}`);
  }
}

void main();
