import { createBlfWriter, createMemorySink, FrameFlag, openLog } from '@charge/can-log';
import { analyzeLog, FINDING_CATALOG, type SessionReport } from '@charge/gbt27930';
import { analyzeFrames, codes } from './support/analyze-frames';
import { GbtScenario, gbtId } from './support/gbt-scenario';

const ORIGIN = Date.UTC(2024, 0, 2, 3, 4, 5);

function only(frames: GbtScenario): SessionReport {
  const r = analyzeFrames(frames.frames, { timeOrigin: ORIGIN });
  expect(r.sessions).toHaveLength(1);
  return r.sessions[0];
}

describe('normal 2015 session', () => {
  const sc = new GbtScenario().fullSession(20);
  const r = analyzeFrames(sc.frames, { timeOrigin: ORIGIN });
  const s = r.sessions[0];

  it('has one session with all four phases, stopped by the BMS', () => {
    expect(r.sessions).toHaveLength(1);
    expect(s.edition).toBe('2015');
    expect(s.phases.map((p) => p.name)).toEqual(['handshake', 'configuration', 'charging', 'ending']);
    expect(s.lastPhase).toBe('ending');
    expect(s.stopInitiator).toBe('bms');
    expect(s.startTime).toBe(new Date(ORIGIN).toISOString());
  });

  it('reports vehicle, charger, limits and stats', () => {
    expect(s.vehicle).toEqual({
      vin: null,
      bmsProtocolVersion: '1.1',
      batteryType: 'LiFePO4 (03)',
      ratedCapacityAh: 152,
      ratedVoltageV: 364.8,
    });
    expect(s.charger).toEqual({
      protocolVersion: '1.1',
      chargerNumber: 0x01020304,
      maxOutputVoltageV: 750,
      maxOutputCurrentA: 250,
    });
    expect(s.limits).toEqual({
      maxCellVoltageV: 3.7,
      maxChargingCurrentA: 250,
      maxTotalVoltageV: 426.1,
      maxTemperatureC: 65,
    });
    expect(s.stats).toEqual({
      socStart: 50,
      socEnd: 80,
      maxOutputVoltageV: 380,
      maxOutputCurrentA: 100,
      energyKWh: 5.5,
      chargingMinutes: 12,
      maxBatteryTempC: 30,
    });
  });

  it('has only the stop-reason findings', () => {
    expect(codes(s)).toEqual(['BMS_SOC_TARGET_REACHED', 'CHARGER_STOPPED_BY_BMS']);
    const f = s.findings.find((x) => x.code === 'BMS_SOC_TARGET_REACHED')!;
    expect(f.severity).toBe('info');
    expect(f.evidence[0]).toMatchObject({ message: 'BST', canId: '0x101956F4', data: '010000f0' });
    expect(f.message).toContain('BST 1.1');
  });

  it('produces bounded series in positive charging amps', () => {
    expect(s.series.currentOutputA.length).toBeGreaterThan(10);
    expect(s.series.currentOutputA.length).toBeLessThanOrEqual(2000);
    expect(Math.max(...s.series.currentOutputA.map((p) => p[1]))).toBe(100);
    expect(s.series.soc[0][1]).toBe(50);
    expect(s.series.voltageDemandV.every(([t]) => t >= 0)).toBe(true);
  });
});

describe('2011 session', () => {
  it('is detected from BRM V1.0 / 41 bytes with 6-byte CML and CCS', () => {
    const sc = new GbtScenario('2011').handshake().configuration().charge(5).stop('charger');
    const s = only(sc);
    expect(s.edition).toBe('2011');
    expect(s.vehicle.bmsProtocolVersion).toBe('1.0');
    expect(s.charger.protocolVersion).toBeNull();
    expect(s.stopInitiator).toBe('charger');
    expect(codes(s)).toEqual(['BMS_STOPPED_BY_CHARGER', 'CHARGER_MANUAL_STOP']);
  });
});

describe('sessions', () => {
  it('splits two sessions in one file at the second CHM', () => {
    const sc = new GbtScenario().fullSession(3).wait(2).fullSession(3);
    const r = analyzeFrames(sc.frames, { timeOrigin: ORIGIN });
    expect(r.sessions.map((s) => s.index)).toEqual([0, 1]);
    expect(r.sessions.map((s) => s.lastPhase)).toEqual(['ending', 'ending']);
    expect(r.sessions[1].phases[0].name).toBe('handshake');
  });

  it('starts a new session at CRM(0x00) after 10 s of silence, not on other traffic', () => {
    const sc = new GbtScenario('2011').handshake().wait(12);
    for (let k = 0; k < 20; k++) sc.raw(0x123, [1, 2, 3], 0).wait(0.1); // 11-bit traffic does not count
    sc.handshake().configuration().charge(2).stop('bms');
    const r = analyzeFrames(sc.frames);
    expect(r.sessions).toHaveLength(2);
    expect(codes(r.sessions[0])).toEqual(['SESSION_INCOMPLETE']);
    expect(r.sessions[0].lastPhase).toBe('handshake');
    const inc = r.sessions[0].findings[0];
    expect(inc.severity).toBe('warning');
    expect(inc.evidence.length).toBeGreaterThan(0);
  });

  it('ignores unrelated traffic: 11-bit, CAN FD, error frames (counted), a second channel', () => {
    const sc = new GbtScenario().handshake().configuration();
    for (let k = 0; k < 10; k++) {
      sc.raw(0x7df, [2, 1, 0], 0, 1);
      sc.raw(gbtId(6, 0x10, 0xf4, 0x56), new Array(12).fill(0), FrameFlag.Extended | FrameFlag.Fd, 1);
      sc.raw(0x18fef100, new Array(64).fill(7), FrameFlag.Extended | FrameFlag.Fd, 2);
      sc.raw(0x0cf00400, [1, 2, 3, 4, 5, 6, 7, 8], FrameFlag.Extended, 2);
      sc.raw(0, [], FrameFlag.Error, k % 2 ? 1 : 2);
      sc.wait(0.3);
    }
    sc.charge(3).stop('bms');
    const r = analyzeFrames(sc.frames);
    expect(r.sessions).toHaveLength(1);
    expect(r.file.errorFrames).toBe(10);
    expect(r.file.channels).toEqual([1, 2]);
    const s = r.sessions[0];
    expect(codes(s)).toEqual(['BMS_SOC_TARGET_REACHED', 'BUS_ERROR_FRAMES', 'CHARGER_STOPPED_BY_BMS']);
    const bus = s.findings.find((f) => f.code === 'BUS_ERROR_FRAMES')!;
    expect(bus.message).toContain('通道 1: 5 帧');
    expect(bus.message).toContain('通道 2: 5 帧');
  });
});

describe('stop reasons and faults (BST/CST)', () => {
  const bstCases: [number[], string[]][] = [
    [[0x01, 0, 0, 0xf0], ['BMS_SOC_TARGET_REACHED']],
    [[0x04, 0, 0, 0xf0], ['BMS_TOTAL_VOLTAGE_REACHED']],
    [[0x10, 0, 0, 0xf0], ['BMS_CELL_VOLTAGE_REACHED']],
    [
      [0x00, 0x55, 0x55, 0xf5],
      [
        'BST_BATTERY_OVERTEMP',
        'BST_BMS_COMPONENT_OVERTEMP',
        'BST_CC2_VOLTAGE_FAULT',
        'BST_CHARGING_CONNECTOR_FAULT',
        'BST_CURRENT_TOO_HIGH',
        'BST_HV_RELAY_FAULT',
        'BST_INSULATION_FAULT',
        'BST_OTHER_FAULT',
        'BST_OUTPUT_CONNECTOR_OVERTEMP',
        'BST_VOLTAGE_ABNORMAL',
      ],
    ],
  ];
  it.each(bstCases)('BST %j', (bst, expected) => {
    const s = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(2)
        .stop('bms', { bst, cst: [0x40, 0, 0xf0, 0xf0] }),
    );
    expect(codes(s)).toEqual([...expected, 'CHARGER_STOPPED_BY_BMS'].sort());
    expect(s.stopInitiator).toBe('bms');
    for (const f of s.findings) if (f.code.startsWith('BST_')) expect(f.severity).toBe('critical');
  });

  const cstCases: [number[], string[]][] = [
    [[0x01, 0, 0xf0, 0xf0], ['CHARGER_CONDITION_REACHED']],
    [[0x04, 0, 0xf0, 0xf0], ['CHARGER_MANUAL_STOP']],
    [
      [0x10, 0x55, 0xf5, 0xf5],
      [
        'CHARGER_FAULT_STOP',
        'CST_CHARGER_OVERTEMP',
        'CST_CONNECTOR_FAULT',
        'CST_CURRENT_MISMATCH',
        'CST_EMERGENCY_STOP',
        'CST_ENERGY_UNDELIVERABLE',
        'CST_INTERNAL_OVERTEMP',
        'CST_OTHER_FAULT',
        'CST_VOLTAGE_ABNORMAL',
      ],
    ],
  ];
  it.each(cstCases)('CST %j', (cst, expected) => {
    const s = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(2)
        .stop('charger', { cst, bst: [0x40, 0, 0, 0xf0] }),
    );
    expect(codes(s)).toEqual([...expected, 'BMS_STOPPED_BY_CHARGER'].sort());
    expect(s.stopInitiator).toBe('charger');
    const fault = s.findings.find((f) => f.code === 'CHARGER_FAULT_STOP');
    if (fault) expect(fault.severity).toBe('critical');
  });

  it('reports a repeated stop once with its first and last time', () => {
    const s = only(new GbtScenario().handshake().configuration().charge(2).stop('charger', { repeats: 60 }));
    const f = s.findings.filter((x) => x.code === 'CHARGER_MANUAL_STOP');
    expect(f).toHaveLength(1);
    expect(Date.parse(f[0].endTime) - Date.parse(f[0].startTime)).toBeCloseTo(590, -1);
    expect(f[0].message).toContain('共 60 帧');
    expect(f[0].evidence).toHaveLength(2);
  });
});

describe('receive timeouts on the bus (BEM/CEM)', () => {
  it('raises every BEM and CEM code', () => {
    const sc = new GbtScenario().handshake();
    sc.send(2, 0x1e, false, [0x55 & 0xf5, 0xf5, 0xf5, 0xf5]).wait(0.25); // BEM: 1.1,1.3,2.1,2.3,3.1,3.3,4.1
    sc.send(2, 0x1f, true, [0xf1, 0xf5, 0xd5, 0xf1]).wait(0.25); // CEM: 1.1,2.1,2.3,3.1,3.3,3.5,4.1
    const s = only(sc);
    expect(codes(s)).toEqual([
      'BEM_CCS_TIMEOUT',
      'BEM_CRM_00_TIMEOUT',
      'BEM_CRM_AA_TIMEOUT',
      'BEM_CRO_TIMEOUT',
      'BEM_CSD_TIMEOUT',
      'BEM_CST_TIMEOUT',
      'BEM_CTS_CML_TIMEOUT',
      'CEM_BCL_TIMEOUT',
      'CEM_BCP_TIMEOUT',
      'CEM_BCS_TIMEOUT',
      'CEM_BRM_TIMEOUT',
      'CEM_BRO_TIMEOUT',
      'CEM_BSD_TIMEOUT',
      'CEM_BST_TIMEOUT',
      'SESSION_INCOMPLETE',
    ]);
    expect(s.findings.find((f) => f.code === 'CEM_BCS_TIMEOUT')!.severity).toBe('critical');
  });
});

describe('battery status (BSM)', () => {
  it.each([
    [0x01, 0xd0, ['BSM_CELL_VOLTAGE_HIGH']],
    [0x02, 0xd0, ['BSM_CELL_VOLTAGE_LOW']],
    [0x04, 0xd0, ['BSM_SOC_HIGH']],
    [0x08, 0xd0, ['BSM_SOC_LOW']],
    [0x10, 0xd0, ['BSM_OVERCURRENT']],
    [0x40, 0xd0, ['BSM_BATTERY_OVERTEMP']],
    [0x00, 0xd1, ['BSM_INSULATION_ABNORMAL']],
    [0x00, 0xd4, ['BSM_CONNECTOR_ABNORMAL']],
  ])('byte6 %i byte7 %i', (b6, b7, expected) => {
    const s = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(3, (t) => (t > 1 ? { bsmStatus6: b6, bsmStatus7: b7 } : {}))
        .stop('bms'),
    );
    expect(codes(s)).toEqual([...expected, 'BMS_SOC_TARGET_REACHED', 'CHARGER_STOPPED_BY_BMS'].sort());
    expect(s.findings.find((f) => f.code === expected[0])!.severity).toBe('warning');
  });
});

describe("the analyzer's own checks", () => {
  it('MESSAGE_TIMEOUT_BCL/CCS/BCS on silent gaps, measured up to the stop', () => {
    const s = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(20, (t) => ({
          skipBcl: t >= 5 && t < 6.6,
          skipCcs: t >= 8 && t < 9.5,
          skipBcs: t >= 10,
        }))
        .stop('bms'),
    );
    expect(codes(s)).toEqual([
      'BMS_SOC_TARGET_REACHED',
      'CHARGER_STOPPED_BY_BMS',
      'MESSAGE_TIMEOUT_BCL',
      'MESSAGE_TIMEOUT_BCS',
      'MESSAGE_TIMEOUT_CCS',
    ]);
    const bcl = s.findings.filter((f) => f.code === 'MESSAGE_TIMEOUT_BCL');
    expect(bcl).toHaveLength(1);
    expect((Date.parse(bcl[0].endTime) - Date.parse(bcl[0].startTime)) / 1000).toBeCloseTo(1.65, 2);
    expect(bcl[0].evidence).toHaveLength(2);
    const bcs = s.findings.find((f) => f.code === 'MESSAGE_TIMEOUT_BCS')!;
    expect(bcs.message).toContain('BST');
    expect(bcs.severity).toBe('warning');
  });

  it('OUTPUT_VOLTAGE_DEVIATION: output above demand for ≥ 5 s (not for 3 s)', () => {
    const long = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(15, (t) => (t > 4 && t < 10.5 ? { outV: 440, measuredV: 440 } : {}))
        .stop('bms'),
    );
    expect(codes(long)).toContain('OUTPUT_VOLTAGE_DEVIATION');
    const f = long.findings.find((x) => x.code === 'OUTPUT_VOLTAGE_DEVIATION')!;
    expect((Date.parse(f.endTime) - Date.parse(f.startTime)) / 1000).toBeGreaterThanOrEqual(5);
    expect(f.message).toContain('440.0 V');
    const short = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(15, (t) => (t > 4 && t < 7 ? { outV: 440, measuredV: 440 } : {}))
        .stop('bms'),
    );
    expect(codes(short)).not.toContain('OUTPUT_VOLTAGE_DEVIATION');
  });

  it('OUTPUT_VOLTAGE_DEVIATION: output away from the BCS measured voltage; CV mode off set point', () => {
    const meas = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(8, () => ({ measuredV: 300 }))
        .stop('bms'),
    );
    expect(codes(meas)).toContain('OUTPUT_VOLTAGE_DEVIATION');
    const cv = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(8, () => ({ mode: 1, demandV: 400, outV: 380, measuredV: 380 }))
        .stop('bms'),
    );
    expect(codes(cv)).toContain('OUTPUT_VOLTAGE_DEVIATION');
    const cc = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(8, () => ({ mode: 2, demandV: 400, outV: 380, measuredV: 380 }))
        .stop('bms'),
    );
    expect(codes(cc)).not.toContain('OUTPUT_VOLTAGE_DEVIATION');
  });

  it('OUTPUT_CURRENT_DEVIATION: output above demand for ≥ 5 s, ignoring the first 3 s', () => {
    const s = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(12, (t) => (t > 5 ? { outA: 118 } : {}))
        .stop('bms'),
    );
    const f = s.findings.filter((x) => x.code === 'OUTPUT_CURRENT_DEVIATION');
    expect(f).toHaveLength(1);
    expect(f[0].message).toContain('118.0 A');
    expect(f[0].message).toContain('18 %');
    const ramp = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(12, (t) => (t < 2.9 ? { outA: 150 } : {}))
        .stop('bms'),
    );
    expect(codes(ramp)).not.toContain('OUTPUT_CURRENT_DEVIATION');
    const small = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(12, () => ({ outA: 104 }))
        .stop('bms'),
    );
    expect(codes(small)).not.toContain('OUTPUT_CURRENT_DEVIATION');
  });

  it('CELL_VOLTAGE_LIMIT_EXCEEDED and TEMPERATURE_LIMIT_EXCEEDED against BCP', () => {
    const s = only(
      new GbtScenario()
        .handshake()
        .configuration({ maxCellV: 3.65, maxTempC: 55 })
        .charge(4, (t) => (t > 2 ? { maxCellV: 3.7, maxTempC: 57 } : {}))
        .stop('bms'),
    );
    expect(codes(s)).toEqual(
      [
        'BMS_SOC_TARGET_REACHED',
        'CELL_VOLTAGE_LIMIT_EXCEEDED',
        'CHARGER_STOPPED_BY_BMS',
        'TEMPERATURE_LIMIT_EXCEEDED',
      ].sort(),
    );
    expect(s.findings.find((f) => f.code === 'CELL_VOLTAGE_LIMIT_EXCEEDED')!.severity).toBe('critical');
    expect(s.stats.maxBatteryTempC).toBe(57);
  });

  it('CHARGING_PAUSED: one finding per pause (BSM 7.5 = 00, CCS 7.1 = 00), with resume', () => {
    const s = only(
      new GbtScenario()
        .handshake()
        .configuration()
        .charge(20, (t) => ({
          bsmStatus7: t >= 4 && t < 7 ? 0xc0 : 0xd0,
          ccs7: t >= 12 && t < 14 ? 0xfc : 0xfd,
          outA: (t >= 4 && t < 7.5) || (t >= 12 && t < 14) ? 0 : 100,
        }))
        .stop('bms'),
    );
    const pauses = s.findings.filter((f) => f.code === 'CHARGING_PAUSED');
    expect(pauses).toHaveLength(2);
    expect(pauses[0].message).toContain('BSM 7.5');
    expect(pauses[1].message).toContain('CCS 7.1');
    const d0 = (Date.parse(pauses[0].endTime) - Date.parse(pauses[0].startTime)) / 1000;
    expect(d0).toBeGreaterThan(2.5);
    expect(d0).toBeLessThan(3.5);
    expect(codes(s)).not.toContain('OUTPUT_CURRENT_DEVIATION');
    expect(pauses[0].severity).toBe('info');
  });

  it('TP_TRANSFER_ABORTED on an Abort, then a retry completes', () => {
    const sc = new GbtScenario();
    sc.send(6, 0x26, true, [1, 1, 0]).wait(0.25);
    sc.send(6, 0x01, true, [0x00, 1, 2, 3, 4, 0xff, 0xff, 0xff]).wait(0.05);
    const brm = [1, 1, 0, 3, ...new Array(45).fill(0xff)];
    sc.tp(0x02, false, brm, { abortAfter: 3 }).wait(0.3);
    sc.tp(0x02, false, brm).wait(0.1);
    sc.configuration().charge(2).stop('bms');
    const s = only(sc);
    expect(codes(s)).toContain('TP_TRANSFER_ABORTED');
    const f = s.findings.find((x) => x.code === 'TP_TRANSFER_ABORTED')!;
    expect(f.message).toContain('BRM');
    expect(f.message).toContain('Abort');
    expect(f.message).toContain('3/7');
    expect(s.vehicle.bmsProtocolVersion).toBe('1.1');
  });

  it('TP_TRANSFER_ABORTED for an RTS that never completes', () => {
    const sc = new GbtScenario().handshake().configuration();
    sc.raw(gbtId(7, 0xec, 0xf4, 0x56), [0x10, 9, 0, 2, 0xff, 0, 0x11, 0]).wait(2);
    sc.charge(2).stop('bms');
    const s = only(sc);
    expect(s.findings.find((x) => x.code === 'TP_TRANSFER_ABORTED')!.message).toContain('BCS');
  });

  it('UNKNOWN_GBT_MESSAGE for a 2023-edition PGN', () => {
    const sc = new GbtScenario().handshake();
    sc.send(6, 0x3c, true, [1, 2, 3, 4, 5, 6, 7, 8]).wait(0.25).send(6, 0x3c, true, [1, 2, 3, 4, 5, 6, 7, 8]);
    sc.configuration().charge(2).stop('bms');
    const s = only(sc);
    const f = s.findings.filter((x) => x.code === 'UNKNOWN_GBT_MESSAGE');
    expect(f).toHaveLength(1);
    expect(f[0].message).toContain('NTM');
    expect(f[0].evidence[0].canId).toBe('0x183CF456');
  });

  it('covers every code of the catalog across these scenarios', () => {
    expect(FINDING_CATALOG).toHaveLength(8 + 10 + 8 + 7 + 7 + 8 + 12);
    expect(new Set(FINDING_CATALOG.map((f) => f.code)).size).toBe(FINDING_CATALOG.length);
  });
});

describe('through a BLF file written by can-log', () => {
  it('analyzes a two-session log with a second channel and error frames from BLF', async () => {
    const sc = new GbtScenario().fullSession(4).wait(3);
    sc.raw(0, [], FrameFlag.Error, 2);
    sc.raw(0x100, [1], 0, 2);
    sc.handshake({ vin: 'LSVAB4BR5EN123456' }).configuration().charge(4).stop('charger');
    const sink = createMemorySink();
    const w = await createBlfWriter(sink, { measurementStart: new Date(ORIGIN) });
    for (const f of sc.frames) {
      const flags = f.flags ?? FrameFlag.Extended;
      await w.writeFrame({
        timestamp: f.t,
        id: f.id,
        data: f.data,
        extended: (flags & FrameFlag.Extended) !== 0,
        error: (flags & FrameFlag.Error) !== 0,
        channel: f.channel,
      });
    }
    await w.close();
    const log = await openLog(sink.bytes());
    const r = await analyzeLog(log);
    expect(r.file.format).toBe('blf');
    expect(r.file.errorFrames).toBe(1);
    expect(r.file.channels).toEqual([1, 2]);
    expect(r.file.startTime).toBe(new Date(ORIGIN).toISOString());
    expect(r.sessions).toHaveLength(2);
    expect(r.sessions[0].stopInitiator).toBe('bms');
    expect(r.sessions[1].stopInitiator).toBe('charger');
    expect(r.sessions[1].vehicle.vin).toBe('LSVAB4BR5EN123456');
    // the error frame came after session 0 ended and before session 1 began: it belongs to session 0
    expect(codes(r.sessions[0])).toEqual([
      'BMS_SOC_TARGET_REACHED',
      'BUS_ERROR_FRAMES',
      'CHARGER_STOPPED_BY_BMS',
    ]);
    expect(codes(r.sessions[1])).toEqual(['BMS_STOPPED_BY_CHARGER', 'CHARGER_MANUAL_STOP']);
  });
});

describe('BLF round trip of a scenario with many findings', () => {
  it('gives the same sessions from a can-log BLF file as from in-memory batches', async () => {
    const sc = new GbtScenario()
      .handshake()
      .configuration({ maxCellV: 3.65, maxTempC: 55 })
      .charge(20, (t) => ({
        skipBcl: t >= 5 && t < 6.6,
        bsmStatus7: t >= 8 && t < 10 ? 0xc1 : 0xd0,
        maxCellV: t > 15 ? 3.7 : 3.5,
        outA: t > 11 && t < 19.5 ? 118 : 100,
      }))
      .stop('charger', { cst: [0x10, 0x01, 0xf0, 0xf0] });
    sc.send(2, 0x1e, false, [0xf1, 0xf0, 0xf0, 0xf0]);
    const memory = analyzeFrames(sc.frames, { timeOrigin: ORIGIN });
    const sink = createMemorySink();
    const w = await createBlfWriter(sink, { measurementStart: new Date(ORIGIN) });
    for (const f of sc.frames)
      await w.writeFrame({ timestamp: f.t, id: f.id, data: f.data, extended: true, channel: 1 });
    await w.close();
    const blf = await analyzeLog(await openLog(sink.bytes()));
    expect(codes(blf.sessions[0])).toEqual([
      'BEM_CRM_00_TIMEOUT',
      'BMS_STOPPED_BY_CHARGER',
      'BSM_INSULATION_ABNORMAL',
      'CELL_VOLTAGE_LIMIT_EXCEEDED',
      'CHARGER_FAULT_STOP',
      'CHARGING_PAUSED',
      'CST_CHARGER_OVERTEMP',
      'MESSAGE_TIMEOUT_BCL',
      'OUTPUT_CURRENT_DEVIATION',
    ]);
    // BLF stores timestamps at 10 µs/1 ns resolution: compare everything but exact times and series
    const a = blf.sessions[0];
    const b = memory.sessions[0];
    expect(memory.sessions).toHaveLength(1);
    expect(codes(b)).toEqual(codes(a));
    expect(a.stats).toEqual(b.stats);
    expect(a.vehicle).toEqual(b.vehicle);
    expect(a.limits).toEqual(b.limits);
    expect(a.phases).toEqual(b.phases);
    expect(a.findings.map((f) => [f.code, f.startTime, f.evidence[0].data])).toEqual(
      b.findings.map((f) => [f.code, f.startTime, f.evidence[0].data]),
    );
    expect(a.series.currentOutputA.length).toBeGreaterThan(100);
  });
});

describe('progress and abort', () => {
  it('reports progress and rejects with the abort reason', async () => {
    const { analyzeBatches } = await import('@charge/gbt27930');
    const { streamBatches } = await import('./support/frame-builder');
    const frames = new GbtScenario().fullSession(30).frames;
    const seen: number[] = [];
    const r = await analyzeBatches(streamBatches(frames, 64), {
      progressIntervalFrames: 500,
      onProgress: (p) => seen.push(p.frames),
    });
    expect(r.sessions).toHaveLength(1);
    expect(seen.length).toBeGreaterThan(3);
    expect(seen[seen.length - 1]).toBe(frames.length);
    const ac = new AbortController();
    const reason = new Error('stop now');
    let n = 0;
    await expect(
      analyzeBatches(streamBatches(frames, 64), {
        signal: ac.signal,
        progressIntervalFrames: 64,
        onProgress: () => {
          if (++n === 3) ac.abort(reason);
        },
      }),
    ).rejects.toBe(reason);
  });
});
