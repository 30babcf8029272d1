import * as fs from 'node:fs';
import { openLog } from '@charge/can-log';
import { analyzeLog, MessageCensus, type CensusResult, type DecodedFields } from '@charge/gbt27930';
import { sharedFile } from './support/shared-data';

interface ExpectedSample {
  t: number;
  viaTP: boolean;
  data: string;
  decoded: Record<string, unknown>;
}
interface ExpectedLog {
  file: string;
  frames: number;
  timeSpan_s: number;
  editionHints: Record<string, unknown>;
  messageCounts: Record<string, number>;
  dlcByMessage: Record<string, Record<string, number>>;
  phaseFirstSeen_s: Record<string, number>;
  tpTransfers: {
    message: string;
    size: number;
    packets: number;
    complete: boolean;
    eomAck: boolean;
    count: number;
  }[];
  unknownIds: Record<string, number>;
  firstDecoded: Record<string, ExpectedSample[]>;
}

const expected: Record<string, ExpectedLog> = JSON.parse(
  fs.readFileSync(sharedFile('gbt/EXPECTED_GBT.json'), 'utf8'),
);

async function census(file: string): Promise<CensusResult> {
  const log = await openLog(file);
  const c = new MessageCensus();
  for await (const b of log.batches()) c.push(b);
  return c.finish();
}

/** Our decoded field name for the reference's name (unit suffix without the underscore). */
const ALIASES: Record<string, string> = { bmsComponentOrConnectorOverTemp: 'bmsComponentOverTemp' };
const SKIP = new Set(['bmsProtocolVersionBytes', 'rawVersionBytes']);

function normalise(key: string, value: unknown): [string, unknown] {
  const k = ALIASES[key] ?? key.replace(/_(\w)/, (_m, c: string) => c.toUpperCase());
  if (typeof value === 'string') {
    if (k === 'regionCode' && /^[0-9a-f]{6}$/.test(value)) {
      // the reference prints the 3 region bytes as hex; we decode them as ASCII (trailing fill trimmed)
      const bytes = [...Buffer.from(value, 'hex')];
      while (bytes.length && (bytes[bytes.length - 1] === 0xff || bytes[bytes.length - 1] <= 0x20))
        bytes.pop();
      const text = Buffer.from(bytes).toString('latin1');
      return [k, text === '' ? null : text];
    }
    if (/^V\d+\.\d+$/.test(value)) return [k, value.slice(1)];
    if (/^(ff)+$/.test(value) && (k === 'vin' || k === 'regionCode')) return [k, null];
    if (value.endsWith(' (0x00)') || value.endsWith(' (0xAA)')) return [k, value.slice(0, -7)];
  }
  return [k, value];
}

function expectFields(actual: DecodedFields, ref: Record<string, unknown>, where: string): void {
  for (const [key, value] of Object.entries(ref)) {
    if (SKIP.has(key)) continue;
    const [k, v] = normalise(key, value);
    if (v !== null && typeof v === 'object') {
      expectFields(actual[k] as DecodedFields, v as Record<string, unknown>, `${where}.${k}`);
      continue;
    }
    if (typeof v === 'number') expect([where, k, actual[k]]).toEqual([where, k, expect.closeTo(v, 6)]);
    else expect([where, k, actual[k]]).toEqual([where, k, v]);
  }
}

describe.each(Object.values(expected).map((e) => [e.file, e] as const))('real log %s', (file, exp) => {
  let c: CensusResult;
  beforeAll(async () => {
    c = await census(sharedFile(`gbt/${file}`));
  });

  it('has the expected frames, time span, message counts and DLCs', () => {
    expect(c.frames).toBe(exp.frames);
    expect(c.timeSpanS).toBeCloseTo(exp.timeSpan_s, 3);
    expect(c.messageCounts).toEqual(exp.messageCounts);
    expect(c.dlcByMessage).toEqual(exp.dlcByMessage);
    expect(c.unknownIds).toEqual(exp.unknownIds);
  });

  it('has the expected edition hints', () => {
    const h = exp.editionHints;
    expect(c.editionHints.chmBhmPresent).toBe(h['CHM/BHM present (2015 handshake)']);
    expect(c.editionHints.brmProtocolVersionBytes).toBe(h['BRM protocol version bytes']);
    expect(c.editionHints.brmLength).toBe(h['BRM length']);
    expect(c.editionHints.ccsDlcs).toEqual(h['CCS DLCs']);
    expect(c.editionHints.cmlDlcs).toEqual(h['CML DLCs']);
  });

  it('reassembles the expected TP transfers', () => {
    const key = (t: { message: string; complete: boolean }) => `${t.message}/${t.complete}`;
    const sort = <T extends { message: string; complete: boolean }>(a: T[]) =>
      a.slice().sort((x, y) => (key(x) < key(y) ? -1 : 1));
    expect(sort(c.tpTransfers)).toEqual(sort(exp.tpTransfers));
  });

  it('sees each message first at the expected time', () => {
    expect(Object.keys(c.phaseFirstSeenS).sort()).toEqual(Object.keys(exp.phaseFirstSeen_s).sort());
    for (const [m, t] of Object.entries(exp.phaseFirstSeen_s))
      expect([m, c.phaseFirstSeenS[m]]).toEqual([m, expect.closeTo(t, 3)]);
  });

  it('decodes the first instances of every message to the expected values', () => {
    expect(Object.keys(c.firstDecoded).sort()).toEqual(Object.keys(exp.firstDecoded).sort());
    for (const [m, samples] of Object.entries(exp.firstDecoded)) {
      const mine = c.firstDecoded[m];
      expect(mine).toHaveLength(samples.length);
      samples.forEach((ref, k) => {
        expect(mine[k].data).toBe(ref.data);
        expect(mine[k].viaTP).toBe(ref.viaTP);
        expect(mine[k].t - mine[0].t).toBeCloseTo(ref.t - samples[0].t, 3);
        expectFields(mine[k].decoded, ref.decoded, `${m}[${k}]`);
      });
    }
  });
});

describe('orange-gi Log_001.blf (real 2015 session)', () => {
  const exp = JSON.parse(fs.readFileSync(sharedFile('gbt/EXPECTED_LOG_001.json'), 'utf8'));

  it('gives the report of EXPECTED_LOG_001.json', async () => {
    const r = await analyzeLog(await openLog(sharedFile('gbt/orange-gi_charge_Log_001.blf')));
    expect(r.file).toMatchObject({
      format: 'blf',
      sizeBytes: 305170,
      canFrames: exp.blf.canFrames,
      errorFrames: 0,
      channels: exp.blf.channels,
      startTime: '2018-10-05T18:22:39.626Z',
    });
    expect(r.sessions).toHaveLength(exp.sessions.length);
    const s = r.sessions[0];
    const e = exp.sessions[0];
    expect(s.edition).toBe(e.edition);
    expect(s.lastPhase).toBe(e.lastPhase);
    expect(s.stopInitiator).toBe(e.stopInitiator);
    expect(s.vehicle).toEqual(e.vehicle);
    expect(s.stats).toMatchObject(e.stats);
    expect(s.findings.map((f) => f.code).sort()).toEqual([...e.codesPresent].sort());
    expect(s.findings.find((f) => f.code === 'BMS_STOPPED_BY_CHARGER')!.evidence[0].data).toBe('400000f0');
    expect(s.findings.find((f) => f.code === 'CHARGER_MANUAL_STOP')!.evidence[0].data).toBe('04000000');
    expect(s.phases.map((p) => p.name)).toEqual(['handshake', 'configuration', 'charging', 'ending']);
    for (const series of Object.values(s.series)) expect(series.length).toBeLessThanOrEqual(2000);
  });

  it('counts the expected TP transfers', async () => {
    const c = await census(sharedFile('gbt/orange-gi_charge_Log_001.blf'));
    expect(c.messageCounts).toMatchObject(exp.tpTransfers);
  });
});

describe('the other real logs, analyzed', () => {
  it('sut4nd0: one complete 2015 session, manual stop by the charger', async () => {
    const r = await analyzeLog(
      await openLog(sharedFile('gbt/sut4nd0_gbt27930-2015_candump-2023-12-25_220841.log')),
    );
    expect(r.sessions).toHaveLength(1);
    const s = r.sessions[0];
    expect(s.edition).toBe('2015');
    expect(s.stopInitiator).toBe('charger');
    expect(s.vehicle.vin).toBe('L1NSPGH98NA196202');
    expect(s.limits).toEqual({
      maxCellVoltageV: 3.7,
      maxChargingCurrentA: 250.2,
      maxTotalVoltageV: 426.1,
      maxTemperatureC: 65,
    });
    expect(s.findings.map((f) => f.code).sort()).toEqual(['BMS_STOPPED_BY_CHARGER', 'CHARGER_MANUAL_STOP']);
    expect(r.file.startTime).toBe('2023-12-26T03:08:41.247Z');
  });

  it('candump2: a failed handshake with TP aborts and a BEM CRM(0xAA) timeout', async () => {
    const r = await analyzeLog(await openLog(sharedFile('gbt/ru5t_gbt27930-CAN-parser_candump2.log')));
    expect(r.sessions).toHaveLength(1);
    const s = r.sessions[0];
    expect(s.lastPhase).toBe('configuration');
    expect(s.stopInitiator).toBe('none');
    expect(s.findings.map((f) => f.code).sort()).toEqual([
      'BEM_CRM_AA_TIMEOUT',
      'BEM_CTS_CML_TIMEOUT',
      'SESSION_INCOMPLETE',
      'TP_TRANSFER_ABORTED',
    ]);
  });

  it('hybtalented 222222: a 2011 session without a stop', async () => {
    const r = await analyzeLog(await openLog(sharedFile('gbt/hybtalented_gbt27930_222222.utf8.txt')));
    const s = r.sessions[0];
    expect(r.sessions).toHaveLength(1);
    expect(s.edition).toBe('2011');
    expect(s.lastPhase).toBe('charging');
    expect(s.stopInitiator).toBe('none');
    expect(s.stats).toMatchObject({ socStart: 67, socEnd: 67, maxBatteryTempC: 20 });
    expect(s.findings).toEqual([]);
  });
});
