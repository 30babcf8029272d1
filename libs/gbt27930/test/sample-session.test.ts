import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createMemorySink, openLog } from '@charge/can-log';
import {
  analyzeLog,
  DEFAULT_SAMPLE_FRAMES,
  minSampleFrames,
  SAMPLE_FAULTS,
  writeSampleSession,
  type ChargingReport,
  type SampleFault,
  type SampleSessionOptions,
} from '@charge/gbt27930';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gbt-sample-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function generate(options?: SampleSessionOptions) {
  const sink = createMemorySink();
  const summary = await writeSampleSession(sink, options);
  const bytes = sink.bytes();
  return { summary, bytes, report: await analyzeLog(await openLog(bytes)) };
}

const codes = (r: ChargingReport) => r.sessions[0].findings.map((f) => f.code).sort();

describe('writeSampleSession, default (battery over-temperature)', () => {
  const file = path.join(tmp, 'default.blf');
  let summary: Awaited<ReturnType<typeof writeSampleSession>>;
  let report: ChargingReport;
  beforeAll(async () => {
    summary = await writeSampleSession(file);
    report = await analyzeLog(await openLog(file));
  });

  it('writes a five-minute BLF of the default size', () => {
    expect(report.file).toMatchObject({
      format: 'blf',
      canFrames: DEFAULT_SAMPLE_FRAMES,
      errorFrames: 0,
      channels: [1, 2],
      startTime: '2024-06-01T08:00:00.000Z',
    });
    expect(report.file.warnings).toEqual([]);
    expect(summary).toMatchObject({
      frames: DEFAULT_SAMPLE_FRAMES,
      fault: 'battery-overtemp',
      stopInitiator: 'bms',
      startTime: '2024-06-01T08:00:00.000Z',
      socStart: 42,
      socEnd: 49,
    });
    expect(summary.durationS).toBeGreaterThan(4 * 60);
    expect(summary.durationS).toBeLessThan(6 * 60);
  });

  it('is one complete 2015 session stopped by the BMS', () => {
    expect(report.sessions).toHaveLength(1);
    const s = report.sessions[0];
    expect(s.edition).toBe('2015');
    expect(s.phases.map((p) => p.name)).toEqual(['handshake', 'configuration', 'charging', 'ending']);
    expect(s.lastPhase).toBe('ending');
    expect(s.stopInitiator).toBe('bms');
    expect(s.vehicle).toEqual({
      vin: 'LGBT27930SAMPLE01',
      bmsProtocolVersion: '1.1',
      batteryType: 'ternary (06)',
      ratedCapacityAh: 173,
      ratedVoltageV: 350.4,
    });
    expect(s.charger).toEqual({
      protocolVersion: '1.1',
      chargerNumber: 123456,
      maxOutputVoltageV: 750,
      maxOutputCurrentA: 250,
    });
    expect(s.limits).toEqual({
      maxCellVoltageV: 4.2,
      maxChargingCurrentA: 200,
      maxTotalVoltageV: 403.2,
      maxTemperatureC: 55,
    });
  });

  it('reports the over-temperature and exactly the expected findings', () => {
    const s = report.sessions[0];
    expect(codes(report)).toEqual([
      'BSM_BATTERY_OVERTEMP',
      'BST_BATTERY_OVERTEMP',
      'CHARGER_STOPPED_BY_BMS',
      'TEMPERATURE_LIMIT_EXCEEDED',
    ]);
    expect(summary.expectedFindings).toEqual(codes(report));
    const severity = Object.fromEntries(s.findings.map((f) => [f.code, f.severity]));
    expect(severity).toEqual({
      BSM_BATTERY_OVERTEMP: 'warning',
      BST_BATTERY_OVERTEMP: 'critical',
      CHARGER_STOPPED_BY_BMS: 'info',
      TEMPERATURE_LIMIT_EXCEEDED: 'critical',
    });
  });

  it('has realistic stats', () => {
    const st = report.sessions[0].stats;
    expect(st).toMatchObject({ socStart: 42, socEnd: 49, chargingMinutes: 5, maxBatteryTempC: 57 });
    expect(st.energyKWh).toBe(summary.energyKWh);
    expect(st.energyKWh).toBeGreaterThan(4);
    expect(st.energyKWh).toBeLessThan(5);
    expect(st.maxOutputCurrentA).toBeGreaterThan(145);
    expect(st.maxOutputCurrentA).toBeLessThanOrEqual(150);
    expect(st.maxOutputVoltageV).toBeGreaterThan(360);
    expect(st.maxOutputVoltageV).toBeLessThan(380);
  });
});

describe('writeSampleSession faults', () => {
  it.each(Object.keys(SAMPLE_FAULTS) as SampleFault[])(
    '%s: the analyzer reports exactly the listed findings',
    async (fault) => {
      const frames = minSampleFrames(fault) + 400;
      const { summary, report } = await generate({ fault, frames });
      expect(report.file.canFrames).toBe(frames);
      expect(summary.frames).toBe(frames);
      expect(report.sessions).toHaveLength(1);
      const s = report.sessions[0];
      expect(s.edition).toBe('2015');
      expect(s.lastPhase).toBe('ending');
      expect(s.stopInitiator).toBe(SAMPLE_FAULTS[fault].stopInitiator);
      expect(codes(report)).toEqual([...SAMPLE_FAULTS[fault].findings]);
      expect(summary.expectedFindings).toEqual(codes(report));
      expect(s.stats.socStart).toBe(summary.socStart);
      expect(s.stats.socEnd).toBe(summary.socEnd);
    },
  );

  it('writes exactly the requested number of frames', async () => {
    const min = minSampleFrames('battery-overtemp');
    for (let frames = min; frames < min + 10; frames++) {
      const { summary, report } = await generate({ frames });
      expect([frames, summary.frames, report.file.canFrames]).toEqual([frames, frames, frames]);
      expect(codes(report)).toEqual([...SAMPLE_FAULTS['battery-overtemp'].findings]);
    }
  });

  it('is deterministic for a seed, and the seed changes the noise', async () => {
    const a = await generate({ frames: 3000, seed: 7 });
    const b = await generate({ frames: 3000, seed: 7 });
    const c = await generate({ frames: 3000, seed: 8 });
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(Buffer.from(a.bytes).equals(Buffer.from(c.bytes))).toBe(false);
    expect(codes(c.report)).toEqual(codes(a.report));
  });

  it('rejects too few frames and unknown faults before writing anything', async () => {
    const file = path.join(tmp, 'rejected.blf');
    await expect(writeSampleSession(file, { frames: minSampleFrames() - 1 })).rejects.toThrow(RangeError);
    await expect(writeSampleSession(file, { frames: 2.5e4 + 0.5 })).rejects.toThrow(RangeError);
    await expect(writeSampleSession(file, { fault: 'meltdown' as SampleFault })).rejects.toThrow(RangeError);
    expect(fs.existsSync(file)).toBe(false);
  });
});
