/**
 * Fuzzing: thousands of mutated and truncated variants of the sample logs. Every variant
 * must either read (with warnings) or fail with a CanLogError whose code is not INTERNAL,
 * within a bounded time; truncations must yield a prefix of the original frames.
 */
import {
  CanLogError,
  openLog,
  seededRandom,
  toFrame,
  WARNING_CODES,
  type CanFrame,
  type OpenLogOptions,
} from '@charge/can-log';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { sharedPath } from './shared-data';

const LIMITS: OpenLogOptions = {
  maxContainerInflatedBytes: 1 << 20,
  maxFileInflatedBytes: 32 << 20,
  maxObjectSize: 1 << 20,
  maxWarnings: 50,
  maxLineLength: 4096,
};

const KNOWN_CODES = new Set<string>(WARNING_CODES);
/** Warning codes seen that are not documented in WARNING_CODES (must stay empty). */
const unknownCodes: string[] = [];
afterAll(() => expect(unknownCodes).toEqual([]));

interface Outcome {
  frames: CanFrame[];
  error: CanLogError | undefined;
  warnings: number;
  ms: number;
}

async function attempt(bytes: Uint8Array, keepFrames = false): Promise<Outcome> {
  const t0 = performance.now();
  const frames: CanFrame[] = [];
  let error: CanLogError | undefined;
  let warnings = 0;
  let count = 0;
  try {
    const reader = await openLog(bytes, LIMITS);
    try {
      for await (const b of reader.batches()) {
        for (let i = 0; i < b.length; i++) {
          // Touch every row so that bad lengths would show up as exceptions or garbage.
          if (b.lengths[i] > 64 || b.ids[i] > 0x1fffffff || !Number.isFinite(b.timestamps[i])) {
            throw new Error(`invalid row ${i}`);
          }
          if (keepFrames) frames.push(toFrame(b, i));
          count++;
        }
      }
    } finally {
      warnings = reader.stats.warningCount;
      unknownCodes.push(...reader.warnings.map((w) => w.code).filter((c) => !KNOWN_CODES.has(c)));
    }
  } catch (e) {
    if (!(e instanceof CanLogError)) throw e;
    error = e;
  }
  if (!keepFrames) frames.length = count;
  return { frames, error, warnings, ms: performance.now() - t0 };
}

function expectTyped(o: Outcome): void {
  if (o.error) {
    expect(o.error.code).not.toBe('INTERNAL');
    expect(typeof o.error.message).toBe('string');
  }
  expect(o.ms).toBeLessThan(3000);
}

/** Applies 1–8 random mutations: bit flips, byte runs, u32 field smashes, cuts, duplications. */
function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  let b: Uint8Array = Uint8Array.from(src);
  const n = 1 + Math.floor(rnd() * 8);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * b.length);
    const op = Math.floor(rnd() * 6);
    if (op === 0) b[at] ^= 1 << Math.floor(rnd() * 8);
    else if (op === 1) b[at] = Math.floor(rnd() * 256);
    else if (op === 2) {
      const v = [0, 0xffffffff, 0x7fffffff, 16, 32, Math.floor(rnd() * 2 ** 32)][Math.floor(rnd() * 6)];
      for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (v >>> (8 * i)) & 0xff;
    } else if (op === 3) {
      const len = Math.floor(rnd() * 64);
      b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + len))]);
    } else if (op === 4) {
      const len = Math.floor(rnd() * 64);
      const piece = b.subarray(at, at + len);
      b = Uint8Array.from([...b.subarray(0, at), ...piece, ...b.subarray(at)]);
    } else {
      b = b.subarray(0, at);
    }
    if (b.length === 0) break;
  }
  return b;
}

const BLF_SAMPLES = [
  'blf/python-can/issue_1905.blf',
  'blf/python-can/logfile_2017_removed.blf',
  'blf/python-can/test_CanFdMessage.blf',
  'blf/python-can/test_CanFdMessage64.blf',
  'blf/python-can/test_CanMessage2.blf',
  'blf/python-can/test_CanErrorFrameExt.blf',
  'blf/vector_blf/events_from_binlog/test_CanFdErrorFrame64.blf',
  'blf/vector_blf/events_from_converter/test_CanMessage.blf',
  'blf/vector_blf/events_from_converter/test_GlobalMarker.blf',
  'blf/vector_blf/errors/FileWithoutLogContainers.blf',
  'blf/third_party/canview_sample.blf',
  'blf/third_party/aheit_cantools_test.blf',
];

describe('fuzzing the BLF reader', () => {
  it.each(BLF_SAMPLES)('%s: 200 mutated variants give frames or typed errors', async (file) => {
    const src = readFileSync(sharedPath(file));
    const original = await attempt(src);
    expect(original.error).toBeUndefined();
    const rnd = seededRandom(src.length);
    let errors = 0;
    let framesSeen = 0;
    let warnings = 0;
    const codes = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const o = await attempt(mutate(src, rnd));
      expectTyped(o);
      if (o.error) {
        errors++;
        codes.add(o.error.code);
      }
      framesSeen += o.frames.length;
      warnings += o.warnings;
    }
    // Damage is noticed (warnings), most variants still read, and frames survive where the original has any.
    expect(warnings).toBeGreaterThan(60);
    expect(errors).toBeLessThan(200);
    // Fatal errors only come from the header, unknown content, or the size/inflate caps.
    const fatal = ['BAD_HEADER', 'TRUNCATED_HEADER', 'UNKNOWN_FORMAT', 'OBJECT_TOO_LARGE', 'INFLATE_LIMIT'];
    expect([...codes].filter((c) => !fatal.includes(c))).toEqual([]);
    if (original.frames.length > 0) expect(framesSeen).toBeGreaterThan(original.frames.length * 5);
  });

  it('every truncation of a multi-container file yields a prefix of its frames', async () => {
    const src = readFileSync(sharedPath('blf/unlicensed/ypprado_logplotter_Logging.blf'));
    const full = await attempt(src, true);
    expect(full.frames).toHaveLength(2162);
    const rnd = seededRandom(5);
    const cuts = [0, 1, 4, 8, 79, 80, 143, 144, 145, 160, 176];
    for (let k = 0; k < 150; k++) cuts.push(Math.floor(rnd() * src.length));
    for (const cut of cuts) {
      const o = await attempt(src.subarray(0, cut), true);
      expectTyped(o);
      if (cut < 144) {
        expect(o.error?.code).toMatch(/^(TRUNCATED_HEADER|UNKNOWN_FORMAT)$/);
        continue;
      }
      expect(o.error).toBeUndefined();
      expect(o.frames.length).toBeLessThanOrEqual(full.frames.length);
      expect(o.frames).toEqual(full.frames.slice(0, o.frames.length));
      // The header's fileSize reveals every truncation.
      if (cut < src.length) expect(o.warnings).toBeGreaterThan(0);
    }
  });

  it('random byte strings starting with LOGG never throw untyped errors (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 600 }), async (tail) => {
        const head = Buffer.alloc(144);
        head.write('LOGG', 0, 'latin1');
        head.writeUInt32LE(144, 4);
        const o = await attempt(Buffer.concat([head, tail]));
        expectTyped(o);
        expect(o.error).toBeUndefined(); // a valid header with junk after it is never fatal
      }),
      { seed: 42, numRuns: 1000 },
    );
  });
});

describe('fuzzing the text readers', () => {
  const TEXT_SAMPLES = [
    'gbt/sut4nd0_gbt27930-2015_candump-2023-12-25_220841.log',
    'gbt/hybtalented_gbt27930_input.utf8.txt',
    'blf/vector_blf/events_from_converter/sources/test_CanMessage.asc',
  ];

  it.each(TEXT_SAMPLES)(
    '%s: 200 mutated variants give frames and line warnings, never crashes',
    async (file) => {
      const src = readFileSync(sharedPath(file)).subarray(0, 6000);
      const original = await attempt(src);
      expect(original.frames.length).toBeGreaterThan(0);
      const rnd = seededRandom(src.length + 1);
      let framesSeen = 0;
      for (let k = 0; k < 200; k++) {
        const o = await attempt(mutate(src, rnd));
        expectTyped(o);
        if (o.error) expect(o.error.code).toBe('UNKNOWN_FORMAT');
        framesSeen += o.frames.length;
      }
      expect(framesSeen).toBeGreaterThan(original.frames.length * 30);
    },
  );

  it('arbitrary candump-like lines produce frames or line-numbered warnings (fast-check)', async () => {
    const hexDigits = fc.string({
      unit: fc.constantFrom(...'0123456789ABCDEFabcdefR#._ xX'.split('')),
      maxLength: 40,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(hexDigits, { minLength: 1, maxLength: 20 }), async (bodies) => {
        const text = bodies.map((b, i) => `(${i}.000100) can0 ${b}`).join('\n');
        const reader = await openLog(Buffer.from(text), { format: 'candump', maxWarnings: 100 });
        let n = 0;
        for await (const b of reader.batches()) n += b.length;
        expect(n + reader.stats.warningCount).toBe(bodies.length);
        expect(
          reader.warnings.every((w) => w.line !== undefined && w.line >= 1 && w.line <= bodies.length),
        ).toBe(true);
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});
