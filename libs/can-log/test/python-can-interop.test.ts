/** Interop with python-can (Debian python3-can): each side reads what the other wrote. */
import {
  createBlfWriter,
  createCandumpWriter,
  openLog,
  writeSyntheticBlf,
  type CanFrame,
  type FrameInput,
} from '@charge/can-log';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pyRead, pyWrite, type PyMessage } from './python-can';
import { hex } from './shared-data';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'can-log-py-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readOurs(file: string): Promise<CanFrame[]> {
  const out: CanFrame[] = [];
  const r = await openLog(file);
  for await (const f of r.frames()) out.push(f);
  expect(r.warnings).toEqual([]);
  return out;
}

/** Messages covering classic, extended, remote, Tx, CAN FD (BRS/ESI, all lengths) and error frames. */
function pythonMessages(): PyMessage[] {
  const t0 = 1700000000.25; // python-can 4.1 ASCWriter needs a fractional first timestamp
  const msgs: PyMessage[] = [];
  const base = { rtr: false, err: false, fd: false, brs: false, esi: false, rx: true };
  const fdLens = [0, 1, 8, 12, 16, 20, 24, 32, 48, 64];
  for (let k = 0; k < 3200; k++) {
    const t = t0 + k * 0.00125;
    const ch = k % 2;
    const kind = k % 10;
    if (kind < 5) {
      const n = k % 9;
      const data = Buffer.from(Array.from({ length: n }, (_, i) => (k + i) & 0xff)).toString('hex');
      msgs.push({
        ...base,
        t,
        id: kind % 2 ? 0x1800f456 + k : k & 0x7ff,
        ext: kind % 2 === 1,
        ch,
        dlc: n,
        data,
        rx: k % 3 !== 0,
      });
    } else if (kind === 5) {
      msgs.push({ ...base, t, id: 0x321, ext: false, rtr: true, ch, dlc: 3, data: '' });
    } else if (kind < 9) {
      const n = fdLens[k % fdLens.length];
      const data = Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + k) & 0xff)).toString('hex');
      msgs.push({
        ...base,
        t,
        id: 0x1abcdef,
        ext: true,
        fd: true,
        brs: kind === 6,
        esi: kind === 7,
        ch,
        dlc: n,
        data,
      });
    } else {
      msgs.push({ ...base, t, id: 0, ext: false, err: true, ch, dlc: 0, data: '' });
    }
  }
  return msgs;
}

/** One comparable line per frame (error frames: time, channel and the error flag only). */
function key(
  t: number,
  ch: number | string | null,
  err: boolean,
  f: {
    id: number;
    ext: boolean;
    rtr: boolean;
    fd: boolean;
    brs: boolean;
    esi: boolean;
    rx: boolean;
    dlc: number;
    data: string;
  },
): string {
  const time = (Math.round(t * 1e5) / 1e5).toFixed(5);
  if (err) return `${time} ch${ch} error`;
  const payload = f.rtr ? `r${f.dlc}` : f.data;
  return `${time} ch${ch} ${f.id.toString(16)}${f.ext ? 'x' : ''} ${f.rtr ? 'R' : ''}${f.fd ? 'F' : ''}${f.brs ? 'B' : ''}${f.esi ? 'E' : ''} ${f.rx ? 'rx' : 'tx'} ${payload}`;
}

function ourKey(f: CanFrame, t0: number, channelName: (c: number) => number | string): string {
  return key(f.timestamp - t0, channelName(f.channel), f.error, {
    id: f.id,
    ext: f.extended,
    rtr: f.remote,
    fd: f.fd,
    brs: f.brs,
    esi: f.esi,
    rx: !f.tx,
    dlc: f.dlc,
    data: hex(f.data),
  });
}

function pyKey(m: PyMessage, t0: number): string {
  return key(m.t - t0, m.ch, m.err, m);
}

describe('python-can interop: BLF', () => {
  it('reads python-can-written BLF (CAN, CAN FD, remote, error frames; containers split) frame for frame', async () => {
    const file = path.join(dir, 'py.blf');
    const msgs = pythonMessages();
    pyWrite('blf', file, msgs);
    const ours = await readOurs(file);
    expect(ours).toHaveLength(msgs.length);
    expect(ours.map((f) => ourKey(f, 0, (c) => c - 1))).toEqual(msgs.map((m) => pyKey(m, msgs[0].t)));
  });

  it('python-can reads our BLF frame for frame', async () => {
    const file = path.join(dir, 'ours.blf');
    const frames: FrameInput[] = pythonMessages()
      .slice(0, 2000)
      .map((m, k) => ({
        timestamp: k * 0.00125,
        id: m.id,
        extended: m.ext,
        remote: m.rtr,
        error: m.err,
        fd: m.fd,
        brs: m.brs,
        esi: m.esi,
        tx: !m.rx,
        channel: (m.ch as number) + 1,
        dlc: m.rtr ? m.dlc : undefined,
        data: Buffer.from(m.data, 'hex'),
      }));
    const w = await createBlfWriter(file, {
      measurementStart: new Date(Date.UTC(2023, 11, 25, 22, 8, 41, 247)),
    });
    for (const f of frames) await w.writeFrame(f);
    await w.close();
    const py = pyRead('blf', file);
    expect(py).toHaveLength(frames.length);
    const ours = await readOurs(file);
    expect(py.map((m) => pyKey(m, 0))).toEqual(ours.map((f) => ourKey(f, 0, (c) => c - 1)));
    expect(ours.filter((f) => f.fd)).toHaveLength(frames.filter((f) => f.fd).length);
    expect(ours.filter((f) => f.error)).toHaveLength(frames.filter((f) => f.error).length);
  });

  it('python-can reads a 20k-frame synthetic BLF spanning many containers', async () => {
    const file = path.join(dir, 'synthetic.blf');
    await writeSyntheticBlf(file, { frames: 20000, seed: 3, fdShare: 0.1 });
    const py = pyRead('blf', file);
    const ours = await readOurs(file);
    expect(py).toHaveLength(20000);
    expect(py.map((m) => pyKey(m, 0))).toEqual(ours.map((f) => ourKey(f, 0, (c) => c - 1)));
  });
});

describe('python-can interop: candump -L', () => {
  it('reads python-can-written candump logs (with T/R directions)', async () => {
    const file = path.join(dir, 'py.log');
    const msgs = pythonMessages()
      .slice(0, 500)
      .map((m) => ({ ...m, ch: `can${m.ch as number}` }));
    pyWrite('candump', file, msgs);
    const ours = await readOurs(file);
    expect(ours).toHaveLength(msgs.length);
    ours.forEach((f, i) => {
      const m = msgs[i];
      expect(f.timestamp).toBeCloseTo(m.t - msgs[0].t, 5);
      expect(f.error).toBe(m.err);
      if (m.err) return;
      expect(f.id).toBe(m.id);
      expect(f.extended).toBe(m.ext);
      expect(f.remote).toBe(m.rtr);
      expect(f.fd).toBe(m.fd);
      expect(f.brs).toBe(m.brs);
      expect(f.esi).toBe(m.esi);
      expect(f.tx).toBe(!m.rx);
      if (!m.rtr) expect(hex(f.data)).toBe(m.data);
    });
  });

  it('python-can reads our candump output', async () => {
    const file = path.join(dir, 'ours.log');
    const w = await createCandumpWriter(file, { startEpochSeconds: 1703560121, writeDirection: true });
    const frames: FrameInput[] = [
      { timestamp: 0, id: 0x1826f456, extended: true, data: [1, 1, 0], channel: 1 },
      { timestamp: 0.5, id: 0x123, data: [], channel: 2, tx: true },
      { timestamp: 0.75, id: 0x7ff, remote: true, dlc: 8, channel: 1 },
      {
        timestamp: 1.25,
        id: 0x1abcdef,
        extended: true,
        fd: true,
        brs: true,
        data: Array(12).fill(0xee),
        channel: 1,
      },
    ];
    for (const f of frames) await w.writeFrame(f);
    await w.close();
    const py = pyRead('candump', file);
    expect(
      py.map((m) => [m.t - 1703560121, m.id, m.ext, m.rtr, m.fd, m.brs, m.rx, m.ch, m.dlc, m.data]),
    ).toEqual([
      [0, 0x1826f456, true, false, false, false, true, 'can0', 3, '010100'],
      [0.5, 0x123, false, false, false, false, false, 'can1', 0, ''],
      [0.75, 0x7ff, false, true, false, false, true, 'can0', 8, ''],
      [1.25, 0x1abcdef, true, false, true, true, true, 'can0', 12, 'ee'.repeat(12)],
    ]);
  });
});

describe('python-can interop: ASC', () => {
  it('reads python-can-written ASC files', async () => {
    const file = path.join(dir, 'py.asc');
    const msgs = pythonMessages().slice(0, 400);
    pyWrite('asc', file, msgs);
    const ours = await readOurs(file);
    expect(ours).toHaveLength(msgs.length);
    ours.forEach((f, i) => {
      const m = msgs[i];
      expect(f.timestamp).toBeCloseTo(m.t - msgs[0].t, 5);
      expect(f.error).toBe(m.err);
      if (m.err) return;
      expect(f.channel).toBe((m.ch as number) + 1);
      expect(f.id).toBe(m.id);
      expect(f.extended).toBe(m.ext);
      expect(f.remote).toBe(m.rtr);
      expect(f.fd).toBe(m.fd);
      expect(f.brs).toBe(m.brs);
      expect(f.esi).toBe(m.esi);
      expect(f.tx).toBe(!m.rx);
      if (!m.rtr) expect(hex(f.data)).toBe(m.data);
    });
  });
});
