/** Hostile and broken input: caps, bad sizes, truncation, cancellation — always typed errors or warnings. */
import {
  CanLogError,
  createMemorySink,
  detectFormat,
  openLog,
  writeSyntheticBlf,
  type CanLogErrorCode,
  type LogReader,
  type OpenLogOptions,
} from '@charge/can-log';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { blfFile, canMessage, container, fileHeader, object } from './blf-builder';
import { sharedPath } from './shared-data';

async function drain(reader: LogReader): Promise<number> {
  let n = 0;
  for await (const b of reader.batches()) n += b.length;
  return n;
}

async function readError(source: Uint8Array | string, options?: OpenLogOptions): Promise<CanLogError> {
  try {
    await drain(await openLog(source, options));
  } catch (e) {
    expect(e).toBeInstanceOf(CanLogError);
    return e as CanLogError;
  }
  throw new Error('expected a CanLogError');
}

async function expectCode(source: Uint8Array | string, code: CanLogErrorCode, options?: OpenLogOptions) {
  const e = await readError(source, options);
  expect(e.code).toBe(code);
  return e;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'can-log-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('zip bombs and size caps', () => {
  it('stops a container that inflates past the per-container cap (default 16 MiB)', async () => {
    const bomb = blfFile(container(Buffer.alloc(20 * 1024 * 1024)));
    expect(bomb.length).toBeLessThan(100000);
    const e = await expectCode(bomb, 'INFLATE_LIMIT');
    expect(e.offset).toBe(144);
    expect(e.message).toMatch(/maxContainerInflatedBytes/);
  });

  it('honours a configured per-container cap', async () => {
    const file = blfFile(container(Buffer.alloc(300000)));
    await expectCode(file, 'INFLATE_LIMIT', { maxContainerInflatedBytes: 131072 });
  });

  it('stops a file whose containers together inflate past the per-file cap', async () => {
    const one = container(Buffer.alloc(1 << 20));
    const file = blfFile(one, one, one, one);
    const e = await expectCode(file, 'INFLATE_LIMIT', { maxFileInflatedBytes: 3 * (1 << 20) });
    expect(e.message).toMatch(/maxFileInflatedBytes/);
    expect(e.offset).toBe(144 + 3 * one.length);
  });

  it('rejects a top-level object larger than maxObjectSize without reading it', async () => {
    const huge = object(10, Buffer.alloc(16), 16, 0xfffffff0);
    const e = await expectCode(blfFile(huge), 'OBJECT_TOO_LARGE');
    expect(e.offset).toBe(144);
  });

  it('skips inner objects with impossible sizes (0, below header, above cap) without looping', async () => {
    const zero = object(1, Buffer.alloc(0), 16, 0);
    const tiny = object(1, Buffer.alloc(0), 32, 20);
    const big = object(1, Buffer.alloc(0), 16, 0x7fffffff);
    const inner = Buffer.concat([zero, zero, tiny, big, canMessage(0x123, [1, 2]), zero]);
    const reader = await openLog(blfFile(container(inner)));
    expect(await drain(reader)).toBe(1);
    expect(reader.warnings.filter((w) => w.code === 'BAD_OBJECT_HEADER')).toHaveLength(5);
  });

  it('skips top-level objects of size 0 without looping', async () => {
    const zero = object(10, Buffer.alloc(16), 16, 0);
    const reader = await openLog(blfFile(zero, zero, container(canMessage(0x42, [7]))));
    expect(await drain(reader)).toBe(1);
    expect(reader.warnings.map((w) => w.code)).toEqual([
      'BAD_OBJECT_HEADER',
      'SKIPPED_BYTES',
      'BAD_OBJECT_HEADER',
      'SKIPPED_BYTES',
    ]);
  });

  it('never waits forever on a stream of LOBJ signatures', async () => {
    const junk = Buffer.alloc(200000);
    for (let i = 0; i < junk.length; i += 4) junk.write('LOBJ', i, 'latin1');
    const reader = await openLog(blfFile(container(junk, 0)), { maxWarnings: 10 });
    const t0 = Date.now();
    expect(await drain(reader)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(reader.stats.warningCount).toBeGreaterThan(1000);
    expect(reader.warnings).toHaveLength(11);
  });
});

describe('broken structure', () => {
  it('reports damaged zlib data as a warning and continues with the next container', async () => {
    const bad = container(canMessage(0x1, [1]));
    bad.fill(0x55, 32 + 2, bad.length - 4); // keep the zlib header, destroy the deflate data
    const reader = await openLog(blfFile(bad, container(canMessage(0x2, [2]))));
    const ids: number[] = [];
    for await (const f of reader.frames()) ids.push(f.id);
    expect(ids).toEqual([2]);
    expect(reader.warnings.map((w) => [w.code, w.offset])).toEqual([['CORRUPT_CONTAINER', 144]]);
  });

  it('skips containers with an unknown compression method', async () => {
    const reader = await openLog(blfFile(container(canMessage(1, [1]), 7), container(canMessage(2, [2]), 0)));
    expect(await drain(reader)).toBe(1);
    expect(reader.warnings.map((w) => w.code)).toEqual(['UNKNOWN_COMPRESSION']);
  });

  it('warns about non-zero trailing bytes and skips junk between containers', async () => {
    const reader = await openLog(
      Buffer.concat([
        blfFile(container(canMessage(1, [1]))),
        Buffer.from('garbage!'),
        container(canMessage(2, [2])),
        Buffer.from([1, 2, 3]),
      ]),
    );
    expect(await drain(reader)).toBe(2);
    expect(reader.warnings.map((w) => w.code)).toEqual(['SKIPPED_BYTES', 'TRAILING_BYTES']);
  });

  it('gives typed header errors', async () => {
    await expectCode(Buffer.from('LOGG'), 'TRUNCATED_HEADER');
    const bad = fileHeader();
    bad.writeUInt32LE(12, 4);
    await expectCode(bad, 'BAD_HEADER');
    bad.writeUInt32LE(0x7fffffff, 4);
    await expectCode(bad, 'BAD_HEADER');
    const short = fileHeader(208).subarray(0, 150);
    const e = await expectCode(short, 'TRUNCATED_HEADER');
    expect(e.offset).toBe(150);
    await expectCode(Buffer.from('LOGG'), 'TRUNCATED_HEADER', { format: 'blf' });
    await expectCode(Buffer.from('not a log at all'), 'BAD_HEADER', { format: 'blf' });
  });

  it('rejects unknown content and missing files with typed errors', async () => {
    await expectCode(Buffer.from([0, 1, 2, 3, 4, 5]), 'UNKNOWN_FORMAT');
    await expectCode(Buffer.from('hello world\nthis is text\n'), 'UNKNOWN_FORMAT');
    await expectCode(path.join(dir, 'does-not-exist.blf'), 'IO_ERROR');
    expect(detectFormat(new Uint8Array(0))).toBeUndefined();
  });

  it('rejects a second iteration', async () => {
    const reader = await openLog(sharedPath('blf/python-can/test_CanMessage.blf'));
    expect(await drain(reader)).toBe(2);
    const e = await readErrorFromSecondPass(reader);
    expect(e.code).toBe('ALREADY_CONSUMED');
  });
});

async function readErrorFromSecondPass(reader: LogReader): Promise<CanLogError> {
  try {
    await drain(reader);
  } catch (e) {
    return e as CanLogError;
  }
  throw new Error('expected an error');
}

describe('sources, progress and cancellation', () => {
  let file: string;
  beforeAll(async () => {
    file = path.join(dir, 'synthetic.blf');
    await writeSyntheticBlf(file, { frames: 60000, seed: 9, fdShare: 0.1 });
  });

  it('reads the same frames from a path, a Uint8Array and a stream', async () => {
    const sink = createMemorySink();
    await writeSyntheticBlf(sink, { frames: 60000, seed: 9, fdShare: 0.1 });
    const bytes = sink.bytes();
    const sum = async (r: LogReader) => {
      let n = 0;
      let s = 0;
      for await (const b of r.batches()) {
        for (let i = 0; i < b.length; i++) s = (s + b.ids[i] + b.lengths[i] * 7 + b.data[i * 64]) % 1e9;
        n += b.length;
      }
      return [n, s];
    };
    const a = await sum(await openLog(file));
    const b = await sum(await openLog(bytes));
    const c = await sum(await openLog(createReadStream(file, { highWaterMark: 1000 })));
    expect(a[0]).toBe(60000);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('reports byte progress up to the file size', async () => {
    const calls: Array<[number, number | undefined]> = [];
    const reader = await openLog(file, {
      onProgress: (n, total) => calls.push([n, total]),
      readChunkSize: 65536,
    });
    await drain(reader);
    const size = reader.stats.totalBytes!;
    expect(calls.length).toBeGreaterThan(5);
    expect(calls[calls.length - 1]).toEqual([size, size]);
    expect(calls.every(([n], i) => i === 0 || n > calls[i - 1][0])).toBe(true);
  });

  it('aborts mid-iteration with ABORTED', async () => {
    const ac = new AbortController();
    const reader = await openLog(file, { signal: ac.signal, batchSize: 1000 });
    let seen = 0;
    const e = await (async () => {
      try {
        for await (const b of reader.batches()) {
          seen += b.length;
          if (seen >= 5000) ac.abort();
        }
      } catch (err) {
        return err as CanLogError;
      }
      throw new Error('expected ABORTED');
    })();
    expect(e).toBeInstanceOf(CanLogError);
    expect(e.code).toBe('ABORTED');
    expect(seen).toBe(5000);
  });

  it('refuses to open with an already aborted signal', async () => {
    await expectCode(file, 'ABORTED', { signal: AbortSignal.abort() });
  });

  it('reads a text log from a stream', async () => {
    const text = path.join(dir, 'x.log');
    writeFileSync(
      text,
      Array.from(
        { length: 5000 },
        (_, i) => `(${i}.5) can0 123#${(i & 255).toString(16).padStart(2, '0')}`,
      ).join('\n'),
    );
    const reader = await openLog(createReadStream(text, { highWaterMark: 777 }));
    expect(reader.format).toBe('candump');
    let n = 0;
    let last = -1;
    for await (const f of reader.frames()) {
      expect(f.data[0]).toBe(n & 255);
      last = f.timestamp;
      n++;
    }
    expect(n).toBe(5000);
    expect(last).toBe(4999);
  });
});
