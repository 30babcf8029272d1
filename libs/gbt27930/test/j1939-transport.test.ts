import { J1939Transport, type TransferFailure } from '@charge/gbt27930';

function harness() {
  const messages: { pgn: number; data: number[]; time: number; source: number }[] = [];
  const failures: TransferFailure[] = [];
  const closed: [number, boolean][] = [];
  const tp = new J1939Transport({
    onMessage: (pgn, source, _d, data, length, time) =>
      messages.push({ pgn, source, data: [...data.subarray(0, length)], time }),
    onFailure: (f) => failures.push(f),
    onClosed: (pgn, _s, _p, eom) => closed.push([pgn, eom]),
  });
  const cm = (t: number, sa: number, da: number, bytes: number[]) =>
    tp.connectionManagement(t, 0x1cec0000 | (da << 8) | sa, sa, da, Uint8Array.from(bytes), 0, 8);
  const dt = (t: number, sa: number, da: number, bytes: number[]) =>
    tp.dataTransfer(t, sa, da, Uint8Array.from(bytes), 0, 8);
  return { tp, messages, failures, closed, cm, dt };
}

const PAYLOAD = Array.from({ length: 13 }, (_, i) => i + 1);

describe('J1939 transport', () => {
  it('reassembles RTS/CTS/DT/EndOfMsgAck', () => {
    const h = harness();
    h.cm(0, 0xf4, 0x56, [0x10, 13, 0, 2, 0xff, 0, 6, 0]);
    h.cm(0.001, 0x56, 0xf4, [0x11, 2, 1, 0xff, 0xff, 0, 6, 0]);
    h.dt(0.002, 0xf4, 0x56, [1, ...PAYLOAD.slice(0, 7)]);
    h.dt(0.003, 0xf4, 0x56, [2, ...PAYLOAD.slice(7), 0xff]);
    h.cm(0.004, 0x56, 0xf4, [0x13, 13, 0, 2, 0xff, 0, 6, 0]);
    expect(h.messages).toEqual([{ pgn: 0x600, source: 0xf4, data: PAYLOAD, time: 0.003 }]);
    expect(h.closed).toEqual([[0x600, true]]);
    expect(h.failures).toEqual([]);
  });

  it('accepts packets out of order and ignores duplicates', () => {
    const h = harness();
    h.cm(0, 0xf4, 0x56, [0x10, 13, 0, 2, 0xff, 0, 6, 0]);
    h.dt(0.002, 0xf4, 0x56, [2, ...PAYLOAD.slice(7), 0xff]);
    h.dt(0.003, 0xf4, 0x56, [2, ...PAYLOAD.slice(7), 0xff]);
    h.dt(0.004, 0xf4, 0x56, [1, ...PAYLOAD.slice(0, 7)]);
    expect(h.messages.map((m) => m.data)).toEqual([PAYLOAD]);
  });

  it('reassembles BAM broadcasts', () => {
    const h = harness();
    h.cm(0, 0xf4, 0xff, [0x20, 13, 0, 2, 0xff, 0, 0x15, 0]);
    h.dt(0.05, 0xf4, 0xff, [1, ...PAYLOAD.slice(0, 7)]);
    h.dt(0.1, 0xf4, 0xff, [2, ...PAYLOAD.slice(7), 0xff]);
    expect(h.messages).toEqual([{ pgn: 0x1500, source: 0xf4, data: PAYLOAD, time: 0.1 }]);
  });

  it('reports an Abort from either side and a restart by a new RTS', () => {
    const h = harness();
    h.cm(0, 0xf4, 0x56, [0x10, 49, 0, 7, 0xff, 0, 2, 0]);
    h.cm(0.01, 0x56, 0xf4, [0xff, 3, 0xff, 0xff, 0xff, 0, 2, 0]);
    h.cm(0.02, 0xf4, 0x56, [0x10, 49, 0, 7, 0xff, 0, 2, 0]);
    h.dt(0.03, 0xf4, 0x56, [1, 1, 2, 3, 4, 5, 6, 7]);
    h.cm(0.04, 0xf4, 0x56, [0x10, 13, 0, 2, 0xff, 0, 6, 0]);
    expect(h.failures.map((f) => [f.kind, f.pgn, f.abortReason, f.packetsReceived])).toEqual([
      ['abort', 0x200, 3, 0],
      ['restarted', 0x200, null, 1],
    ]);
    h.tp.flush(1);
    expect(h.failures[2]).toMatchObject({ kind: 'incomplete', pgn: 0x600 });
  });

  it('expires stale transfers (T1 between packets)', () => {
    const h = harness();
    h.cm(0, 0xf4, 0x56, [0x10, 13, 0, 2, 0xff, 0, 6, 0]);
    h.dt(0.01, 0xf4, 0x56, [1, ...PAYLOAD.slice(0, 7)]);
    h.dt(0.9, 0xf4, 0x56, [2, ...PAYLOAD.slice(7), 0xff]);
    expect(h.messages).toEqual([]);
    expect(h.failures.map((f) => f.kind)).toEqual(['timeout']);
    h.cm(2, 0xf4, 0x56, [0x10, 13, 0, 2, 0xff, 0, 6, 0]);
    h.tp.expireStale(5);
    expect(h.failures.map((f) => f.kind)).toEqual(['timeout', 'timeout']);
  });

  it('ignores malformed announcements and stray packets', () => {
    const h = harness();
    h.cm(0, 0xf4, 0x56, [0x10, 0, 0, 0, 0xff, 0, 6, 0]);
    h.cm(0, 0xf4, 0x56, [0x10, 0xff, 0xff, 2, 0xff, 0, 6, 0]);
    h.dt(0.01, 0xf4, 0x56, [1, 1, 2, 3, 4, 5, 6, 7]);
    h.tp.flush(1);
    expect(h.messages).toEqual([]);
    expect(h.failures).toEqual([]);
  });
});
