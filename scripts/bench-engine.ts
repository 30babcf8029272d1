/**
 * `npm run bench:engine`: writes a 2,000,000-frame realistic GB/T 27930 session as BLF (with
 * can-log's writer), then times, each in a fresh child process, our full analysis, our raw
 * frame iteration and python-can's BLFReader over the same file, and prints frames/s, the
 * ratios and our peak RSS.
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
import {
  createBatch,
  createBlfWriter,
  FrameFlag,
  MAX_PAYLOAD,
  openLog,
  type FrameBatch,
} from '@charge/can-log';
import { analyzeLog } from '@charge/gbt27930';

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

// ----------------------------------------------------------------- the session

function le16(b: Uint8Array, o: number, v: number): void {
  const r = Math.round(v) & 0xffff;
  b[o] = r & 0xff;
  b[o + 1] = r >> 8;
}

/** Writes a realistic session: handshake, configuration, hours of charging, stop. */
async function writeSession(file: string, totalFrames: number): Promise<number> {
  const writer = await createBlfWriter(file, { measurementStart: new Date(Date.UTC(2024, 5, 1, 8, 0, 0)) });
  const batch = createBatch(4096);
  let written = 0;
  let t = 0;
  const put = (id: number, bytes: ArrayLike<number>, flags = FrameFlag.Extended, channel = 1) => {
    const i = batch.length++;
    batch.timestamps[i] = t;
    batch.ids[i] = id;
    batch.flags[i] = flags;
    batch.channels[i] = channel;
    batch.lengths[i] = bytes.length;
    batch.dlcs[i] = bytes.length;
    batch.data.set(bytes, i * MAX_PAYLOAD);
    written++;
  };
  const flush = async (b: FrameBatch) => {
    if (b.length === 0) return;
    await writer.writeBatch(b);
    b.length = 0;
  };
  const tp = async (pf: number, payload: number[]) => {
    const n = Math.ceil(payload.length / 7);
    put(0x1cec56f4, [0x10, payload.length, 0, n, 0xff, 0, pf, 0]);
    t += 0.002;
    put(0x1cecf456, [0x11, n, 1, 0xff, 0xff, 0, pf, 0]);
    for (let k = 0; k < n; k++) {
      t += 0.001;
      const chunk = payload.slice(k * 7, k * 7 + 7);
      while (chunk.length < 7) chunk.push(0xff);
      put(0x1ceb56f4, [k + 1, ...chunk]);
    }
    t += 0.002;
    put(0x1cecf456, [0x13, payload.length, 0, n, 0xff, 0, pf, 0]);
  };
  // handshake and configuration
  for (let k = 0; k < 20; k++) {
    put(0x1826f456, [1, 1, 0]);
    put(0x182756f4, [0xa5, 0x10]);
    t += 0.25;
  }
  put(0x1801f456, [0, 1, 2, 3, 4, 0x31, 0x32, 0x33]);
  await tp(0x02, [1, 1, 0, 3, 0xf0, 0x05, 0x40, 0x0e, ...new Array(41).fill(0xff)]);
  put(0x1801f456, [0xaa, 1, 2, 3, 4, 0x31, 0x32, 0x33]);
  await tp(0x06, [0x72, 0x01, 0x3a, 0x0f, 0x2a, 0x02, 0xa5, 0x10, 0x73, 0x0c, 0x03, 0xc6, 0x0e]);
  put(0x1807f456, new Array(7).fill(0xff));
  put(0x1808f456, [0x1c, 0x25, 0x7c, 0x01, 0x3c, 0x0f, 0xa0, 0x0f]);
  put(0x100956f4, [0xaa]);
  put(0x100af456, [0xaa]);
  t += 0.5;
  // charging until the frame budget (minus the stop) is used
  const bcl = new Uint8Array(5);
  const ccs = new Uint8Array(7);
  const bsm = new Uint8Array(7);
  let step = 0;
  const ccsId = 0x1812f456;
  while (written < totalFrames - 40) {
    const minutes = Math.floor(t / 60);
    const soc = Math.min(100, 20 + Math.floor(t / 400));
    const amps = 120 + 20 * Math.sin(t / 300) + ((step * 7919) % 10) / 10;
    const volts = 360 + t / 1000 + ((step * 104729) % 7) / 10;
    le16(bcl, 0, 4200);
    le16(bcl, 2, (400 - 140) * 10);
    bcl[4] = 2;
    put(0x181056f4, bcl);
    t += 0.004;
    le16(ccs, 0, volts * 10);
    le16(ccs, 2, (400 - amps) * 10);
    le16(ccs, 4, minutes);
    ccs[6] = 0xfd;
    put(ccsId, ccs);
    if (step % 5 === 2) {
      t += 0.004;
      const cell = Math.round((3.3 + soc / 500) * 100) | (6 << 12);
      await tp(0x11, [
        (volts * 10) & 0xff,
        (volts * 10) >> 8,
        ((400 - amps) * 10) & 0xff,
        ((400 - amps) * 10) >> 8,
        cell & 0xff,
        cell >> 8,
        soc,
        100,
        0,
      ]);
      bsm.set([3, 75 + (minutes % 5), 1, 70, 2, 0, 0xd0]);
      put(0x181356f4, bsm);
    }
    if (step % 2000 === 0) put(0x0cf00400, [0xff, 0x7d, 0x7d, 0, 0, 0xff, 0xff, 0xff], FrameFlag.Extended, 2);
    step++;
    t = step * 0.05 + 6;
    if (batch.length > 4000) await flush(batch);
  }
  for (let k = 0; k < 10; k++) {
    put(0x101af456, [0x04, 0x00, 0xf0, 0xf0]);
    put(0x101956f4, [0x40, 0x00, 0x00, 0xf0]);
    t += 0.01;
  }
  for (let k = 0; k < 5 && written < totalFrames; k++) {
    put(0x181c56f4, [95, 0x4c, 0x01, 0x56, 0x01, 75, 80]);
    if (written < totalFrames) put(0x181df456, [0x10, 0x02, 0x88, 0x13, 4, 3, 2, 1]);
    t += 0.25;
  }
  await flush(batch);
  await writer.close();
  return written;
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
    const n = await writeSession(file, frames);
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
