import * as fs from 'node:fs';
import fc from 'fast-check';
import { createBatch, FrameFlag, MAX_PAYLOAD } from '@charge/can-log';
import {
  ChargingAnalyzer,
  DbcDecoder,
  DbcParseError,
  J1939Transport,
  MessageCensus,
  parseDbc,
} from '@charge/gbt27930';
import { sharedFile } from './support/shared-data';

const GBT_PF = [
  0x26, 0x27, 0x01, 0x02, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x10, 0x11, 0x12, 0x13, 0x15, 0x16, 0x19, 0x1a, 0x1c,
  0x1d, 0x1e, 0x1f, 0x3c, 0xec, 0xeb,
];

const frameArb = fc.record({
  dt: fc.double({ min: 0, max: 3, noNaN: true }),
  pf: fc.constantFrom(...GBT_PF),
  dir: fc.boolean(),
  other: fc.nat(0x1fffffff),
  kind: fc.nat(9),
  data: fc.uint8Array({ minLength: 0, maxLength: 64 }),
  tpCmd: fc.constantFrom(0x10, 0x11, 0x13, 0x20, 0xff, 0x42),
});

describe('fuzz', () => {
  it('the analyzer and census never throw on random and mutated frames, and reports stay valid', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 400 }), (frames) => {
        const batch = createBatch(64);
        const a = new ChargingAnalyzer({ maxSeriesPoints: 20 });
        const c = new MessageCensus();
        let t = 0;
        const flush = () => {
          a.push(batch);
          c.push(batch);
          batch.length = 0;
        };
        for (const f of frames) {
          if (batch.length === 64) flush();
          const i = batch.length++;
          t += f.dt;
          const [sa, da] = f.dir ? [0x56, 0xf4] : [0xf4, 0x56];
          let id = ((7 << 26) | (f.pf << 16) | (da << 8) | sa) >>> 0;
          let flags = FrameFlag.Extended;
          if (f.kind === 0) id = f.other;
          if (f.kind === 1) flags = FrameFlag.Error;
          if (f.kind === 2) flags |= FrameFlag.Fd;
          if (f.kind === 3) flags = 0;
          const data = f.data.slice(0, flags & FrameFlag.Fd ? 64 : 8);
          if (f.pf === 0xec && data.length > 0) data[0] = f.tpCmd;
          batch.timestamps[i] = t;
          batch.ids[i] = flags ? id & 0x1fffffff : id & 0x7ff;
          batch.flags[i] = flags;
          batch.channels[i] = f.kind === 4 ? 2 : 1;
          batch.lengths[i] = data.length;
          batch.dlcs[i] = Math.min(data.length, 15);
          batch.data.set(data, i * MAX_PAYLOAD);
        }
        flush();
        const r = a.finish();
        c.finish();
        expect(JSON.parse(JSON.stringify(r))).toEqual(r);
        for (const s of r.sessions) {
          for (const f of s.findings) {
            expect(f.evidence.length).toBeGreaterThan(0);
            expect(Date.parse(f.endTime)).toBeGreaterThanOrEqual(Date.parse(f.startTime));
          }
          for (const series of Object.values(s.series)) expect(series.length).toBeLessThanOrEqual(20);
        }
      }),
      { numRuns: 300, seed: 27930 },
    );
  });

  it('the TP reassembler never throws and never delivers more than TP_MAX_SIZE bytes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.boolean(),
            fc.boolean(),
            fc.uint8Array({ minLength: 0, maxLength: 8 }),
            fc.double({ min: 0, max: 2, noNaN: true }),
          ),
          {
            maxLength: 300,
          },
        ),
        (ops) => {
          let t = 0;
          const tp = new J1939Transport({
            onMessage: (_p, _s, _d, _data, length) => expect(length).toBeLessThanOrEqual(1785),
          });
          for (const [isCm, dir, data, dt] of ops) {
            t += dt;
            const [sa, da] = dir ? [0x56, 0xf4] : [0xf4, 0x56];
            if (isCm) tp.connectionManagement(t, 0, sa, da, data, 0, data.length);
            else tp.dataTransfer(t, sa, da, data, 0, data.length);
          }
          tp.flush(t);
        },
      ),
      { numRuns: 300, seed: 1939 },
    );
  });

  it('the DBC parser throws only DbcParseError on mutated input, in bounded time', () => {
    const text = fs.readFileSync(sharedFile('dbc/gbt27930_2015.dbc'), 'utf8');
    const started = Date.now();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(text.length), fc.nat(40), fc.string({ maxLength: 6 })), {
          minLength: 1,
          maxLength: 5,
        }),
        (edits) => {
          let s = text;
          for (const [at, del, ins] of edits) s = s.slice(0, at) + ins + s.slice(at + del);
          try {
            const db = parseDbc(s);
            const dec = new DbcDecoder(db);
            const payload = new Uint8Array(64).fill(0xa5);
            for (const m of db.messages) dec.decode(m.id, m.extended, payload, 0, m.size);
          } catch (e) {
            expect(e).toBeInstanceOf(DbcParseError);
            expect((e as DbcParseError).line).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 300, seed: 42 },
    );
    expect(Date.now() - started).toBeLessThan(30000);
  });

  it('the DBC parser throws only DbcParseError on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          parseDbc(s);
        } catch (e) {
          expect(e).toBeInstanceOf(DbcParseError);
        }
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});
