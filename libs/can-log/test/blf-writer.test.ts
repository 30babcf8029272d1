/** BLF writer: round trips through our reader and the file header it produces. */
import {
  createBlfWriter,
  createMemorySink,
  openLog,
  parseBlfHeader,
  writeSyntheticBlf,
  type CanFrame,
  type FrameInput,
} from '@charge/can-log';
import { inflateSync } from 'node:zlib';

async function readFrames(bytes: Uint8Array): Promise<{ frames: CanFrame[]; warnings: string[] }> {
  const r = await openLog(bytes);
  const frames: CanFrame[] = [];
  for await (const f of r.frames()) frames.push(f);
  return { frames, warnings: r.warnings.map((w) => w.code) };
}

const SAMPLE: FrameInput[] = [
  { timestamp: 0, id: 0x123, data: [1, 2, 3], channel: 1 },
  { timestamp: 0.001, id: 0x1826f456, extended: true, data: [0, 1, 2, 3, 4, 5, 6, 7], channel: 2, tx: true },
  { timestamp: 0.002, id: 0x7ff, remote: true, dlc: 4, channel: 1 },
  {
    timestamp: 0.003,
    id: 0x6a9,
    fd: true,
    brs: true,
    data: Array.from({ length: 64 }, (_, i) => i),
    channel: 3,
  },
  {
    timestamp: 0.004,
    id: 0x1abcdef,
    extended: true,
    fd: true,
    esi: true,
    data: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2],
  },
  { timestamp: 0.005, id: 0x100, fd: true, data: [0xaa, 0xbb, 0xcc], tx: true },
  { timestamp: 0.006, id: 0, error: true, channel: 2 },
  { timestamp: 0.007, id: 0x1fffffff, extended: true, error: true, dlc: 2, data: [0xde, 0xad], tx: true },
  { timestamp: 12345.678901234, id: 0x555, data: [] },
];

describe('BLF writer', () => {
  it('round-trips classic, remote, CAN FD and error frames', async () => {
    const sink = createMemorySink();
    const w = await createBlfWriter(sink, { measurementStart: new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 10)) });
    for (const f of SAMPLE) await w.writeFrame(f);
    await w.close();
    const { frames, warnings } = await readFrames(sink.bytes());
    expect(warnings).toEqual([]);
    expect(frames).toHaveLength(SAMPLE.length);
    frames.forEach((f, i) => {
      const s = SAMPLE[i];
      expect(f.timestamp).toBeCloseTo(s.timestamp, 9);
      expect(f.id).toBe(s.id);
      expect(f.extended).toBe(!!s.extended);
      expect(f.remote).toBe(!!s.remote);
      expect(f.error).toBe(!!s.error);
      expect(f.fd).toBe(!!s.fd && !s.error);
      expect(f.brs).toBe(!!s.brs);
      expect(f.esi).toBe(!!s.esi);
      expect(f.tx).toBe(!!s.tx);
      expect(f.channel).toBe(s.channel ?? 1);
      if (!s.remote) expect(Array.from(f.data)).toEqual(Array.from(s.data ?? []));
    });
    expect(frames[2].dlc).toBe(4);
    expect(frames[3].dlc).toBe(15);
    expect(frames[4].dlc).toBe(9);
  });

  it('writes a correct header: counts, sizes and SYSTEMTIMEs', async () => {
    const sink = createMemorySink();
    const start = new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 10));
    const w = await createBlfWriter(sink, {
      measurementStart: start,
      application: { id: 2, major: 1, minor: 2, build: 3 },
    });
    for (const f of SAMPLE) await w.writeFrame(f);
    await w.close();
    const bytes = sink.bytes();
    const h = parseBlfHeader(bytes);
    expect(h.headerSize).toBe(144);
    expect(h.fileSize).toBe(bytes.length);
    expect(h.objectCount).toBe(SAMPLE.length);
    expect(h.applicationName).toBe('CANoe');
    expect(h.applicationVersion).toBe('1.2.3');
    expect(h.compressionLevel).toBe(6);
    expect(h.measurementStartTime).toEqual({
      year: 2024,
      month: 5,
      dayOfWeek: 1,
      day: 6,
      hour: 7,
      minute: 8,
      second: 9,
      milliseconds: 10,
    });
    expect(h.measurementStart?.getTime()).toBe(start.getTime());
    expect(h.lastObject?.getTime()).toBe(start.getTime() + 12345678);
    // uncompressedFileSize = header + container headers + inflated payloads.
    const view = Buffer.from(bytes);
    const containerSize = view.readUInt32LE(144 + 8);
    expect(view.readUInt32LE(144 + 12)).toBe(10); // one LOG_CONTAINER
    expect(144 + containerSize + (containerSize % 4)).toBe(bytes.length);
    const inflated = inflateSync(view.subarray(144 + 32, 144 + containerSize));
    expect(view.readUInt32LE(144 + 24)).toBe(inflated.length);
    expect(h.uncompressedFileSize).toBe(144 + 32 + inflated.length);
  });

  it('splits objects across containers and reads them back (zlib and stored)', async () => {
    for (const compressionLevel of [0, 1]) {
      const sink = createMemorySink();
      await writeSyntheticBlf(sink, {
        frames: 20000,
        seed: 7,
        fdShare: 0.2,
        errorShare: 0.01,
        blf: { compressionLevel, containerSize: 4099 },
      });
      const r = await openLog(sink.bytes());
      let n = 0;
      let fd = 0;
      let err = 0;
      let lastTs = -1;
      let ordered = true;
      for await (const b of r.batches()) {
        for (let i = 0; i < b.length; i++) {
          if (b.flags[i] & 8) fd++;
          if (b.flags[i] & 4) err++;
          if (b.timestamps[i] < lastTs) ordered = false;
          lastTs = b.timestamps[i];
        }
        n += b.length;
      }
      expect(r.warnings).toEqual([]);
      expect(n).toBe(20000);
      expect(fd).toBeGreaterThan(3000);
      expect(err).toBeGreaterThan(100);
      expect(ordered).toBe(true);
      expect(lastTs).toBeCloseTo(19999 * 0.0005, 9);
      expect(r.blfHeader?.compressionLevel).toBe(compressionLevel);
    }
  });

  it('rejects invalid frames and writes after close with typed errors', async () => {
    const w = await createBlfWriter(createMemorySink());
    await expect(w.writeFrame({ timestamp: -1, id: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(w.writeFrame({ timestamp: 0, id: 0x20000000 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(w.writeFrame({ timestamp: 0, id: 1, fd: true, channel: 300 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(w.writeFrame({ timestamp: 0, id: 1, data: Array(12).fill(1) })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await w.close();
    await expect(w.writeFrame({ timestamp: 0, id: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
