import * as fs from 'node:fs';
import { openLog } from '@charge/can-log';
import {
  DbcDecoder,
  DbcParseError,
  GbtMessageDecoder,
  parseDbc,
  type DecodedFields,
  type DecodedGbtMessage,
} from '@charge/gbt27930';
import { sharedFile } from './support/shared-data';

const DBC_TEXT = fs.readFileSync(sharedFile('dbc/gbt27930_2015.dbc'), 'utf8');

/** DBC signal → native decoded field (path) for the GB/T messages. */
const SIGNAL_TO_FIELD: Record<string, string> = {
  BHM_MaxAllowedChargeVoltage: 'maxAllowedChargeVoltageV',
  CRM_ChargerNumber: 'chargerNumber',
  BRM_BatteryType: 'batteryType',
  BRM_RatedCapacity: 'ratedCapacityAh',
  BRM_RatedVoltage: 'ratedVoltageV',
  BCP_CellMaxAllowedVoltage: 'cellMaxAllowedVoltageV',
  BCP_MaxAllowedCurrent: 'maxAllowedCurrentA',
  BCP_NominalEnergy: 'nominalEnergyKWh',
  BCP_MaxAllowedTotalVoltage: 'maxAllowedTotalVoltageV',
  BCP_MaxAllowedTemperature: 'maxAllowedTempC',
  BCP_SOC: 'socPct',
  BCP_BatteryVoltage: 'batteryVoltageV',
  CML_MaxOutputVoltage: 'maxOutputVoltageV',
  CML_MinOutputVoltage: 'minOutputVoltageV',
  CML_MaxOutputCurrent: 'maxOutputCurrentA',
  CML_MinOutputCurrent: 'minOutputCurrentA',
  BCL_VoltageDemand: 'voltageDemandV',
  BCL_CurrentDemand: 'currentDemandA',
  BCS_MeasuredVoltage: 'measuredVoltageV',
  BCS_MeasuredCurrent: 'measuredCurrentA',
  BCS_MaxCellVoltage: 'maxCellVoltageV',
  BCS_MaxCellVoltageGroup: 'maxCellGroup',
  BCS_SOC: 'socPct',
  BCS_RemainingTime: 'remainingTimeMin',
  CCS_OutputVoltage: 'outputVoltageV',
  CCS_OutputCurrent: 'outputCurrentA',
  CCS_ChargingTime: 'chargingTimeMin',
  CCS_ChargingPermitted: 'chargingPermitted',
  BSM_MaxCellVoltageIndex: 'maxCellVoltageIndex',
  BSM_MaxTemperature: 'maxTempC',
  BSM_MaxTemperatureProbe: 'maxTempProbe',
  BSM_MinTemperature: 'minTempC',
  BSM_MinTemperatureProbe: 'minTempProbe',
  BSM_CellVoltageState: 'cellVoltageState',
  BSM_SocState: 'socState',
  BSM_OverCurrent: 'overCurrent',
  BSM_OverTemperature: 'overTemp',
  BSM_Insulation: 'insulation',
  BSM_OutputConnector: 'outputConnector',
  BSM_ChargingPermitted: 'chargingPermitted',
  BST_SocTargetReached: 'reasons.socTargetReached',
  BST_TotalVoltageReached: 'reasons.totalVoltageReached',
  BST_CellVoltageReached: 'reasons.cellVoltageReached',
  BST_ChargerStopped: 'reasons.chargerStopped',
  BST_FaultInsulation: 'faults.insulation',
  BST_FaultOutputConnectorOverTemp: 'faults.outputConnectorOverTemp',
  BST_FaultBmsComponentOverTemp: 'faults.bmsComponentOverTemp',
  BST_FaultChargingConnector: 'faults.chargingConnector',
  BST_FaultBatteryOverTemp: 'faults.batteryOverTemp',
  BST_FaultHvRelay: 'faults.hvRelay',
  BST_FaultCC2Voltage: 'faults.cc2Voltage',
  BST_FaultOther: 'faults.other',
  BST_ErrorOverCurrent: 'errors.overCurrent',
  BST_ErrorVoltageAbnormal: 'errors.voltageAbnormal',
  CST_ConditionReached: 'reasons.conditionReached',
  CST_ManualStop: 'reasons.manualStop',
  CST_FaultStop: 'reasons.faultStop',
  CST_BmsStopped: 'reasons.bmsStopped',
  CST_FaultChargerOverTemp: 'faults.chargerOverTemp',
  CST_FaultChargingConnector: 'faults.chargingConnector',
  CST_FaultChargerInternalOverTemp: 'faults.chargerInternalOverTemp',
  CST_FaultEnergyNotDeliverable: 'faults.energyNotDeliverable',
  CST_FaultEmergencyStop: 'faults.emergencyStop',
  CST_FaultOther: 'faults.other',
  CST_ErrorCurrentMismatch: 'errors.currentMismatch',
  CST_ErrorVoltageAbnormal: 'errors.voltageAbnormal',
  BSD_StopSOC: 'stopSocPct',
  BSD_MinCellVoltage: 'minCellVoltageV',
  BSD_MaxCellVoltage: 'maxCellVoltageV',
  BSD_MinTemperature: 'minTempC',
  BSD_MaxTemperature: 'maxTempC',
  CSD_ChargingTime: 'chargingTimeMin',
  CSD_OutputEnergy: 'energyKWh',
  CSD_ChargerNumber: 'chargerNumber',
  BEM_CRM00Timeout: 'crm00Timeout',
  BEM_CRMAATimeout: 'crmAATimeout',
  BEM_CTS_CMLTimeout: 'ctsCmlTimeout',
  BEM_CROTimeout: 'croTimeout',
  BEM_CCSTimeout: 'ccsTimeout',
  BEM_CSTTimeout: 'cstTimeout',
  BEM_CSDTimeout: 'csdTimeout',
};

function field(f: DecodedFields, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as DecodedFields | undefined)?.[k], f);
}

async function messagesOf(file: string): Promise<DecodedGbtMessage[]> {
  const out: DecodedGbtMessage[] = [];
  const d = new GbtMessageDecoder({ onMessage: (m) => out.push(m) });
  for await (const b of (await openLog(file)).batches()) d.push(b);
  return out;
}

describe('the GB/T 27930 DBC', () => {
  const db = parseDbc(DBC_TEXT);

  it('parses 23 messages, 127 signals, value tables and cycle times', () => {
    expect(db.messages).toHaveLength(23);
    expect(db.messages.reduce((n, m) => n + m.signals.length, 0)).toBe(127);
    const bcl = db.messages.find((m) => m.name === 'BCL')!;
    expect(bcl).toMatchObject({ id: 0x181056f4, extended: true, size: 5, sender: 'BMS', cycleTimeMs: 50 });
    expect(bcl.signals[2].valueTable!.get(2)).toBe('ConstantCurrent');
    expect(bcl.signals[1]).toMatchObject({
      factor: 0.1,
      offset: -400,
      unit: 'A',
      byteOrder: 'little_endian',
      signed: false,
    });
    expect(db.nodes).toEqual(['BMS', 'Charger']);
  });

  it.each([
    'sut4nd0_gbt27930-2015_candump-2023-12-25_220841.log',
    'hybtalented_gbt27930_input.utf8.txt',
    'hybtalented_gbt27930_222222.utf8.txt',
    'ru5t_gbt27930-CAN-parser_candump2.log',
  ])('decodes every GB/T message of %s to the native decoder values', async (file) => {
    const decoder = new DbcDecoder(db);
    let compared = 0;
    for (const m of await messagesOf(sharedFile(`gbt/${file}`))) {
      const frame = decoder.decode(m.canId, true, m.data);
      if (!frame) continue;
      expect(frame.message).toBe(m.name);
      for (const s of frame.signals) {
        const path = SIGNAL_TO_FIELD[s.name];
        if (!path) continue;
        const native = field(m.fields, path);
        if (native === undefined) continue;
        expect([m.name, s.name, s.value]).toEqual([m.name, s.name, native]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(100);
  });
});

describe('DBC decoding', () => {
  const text = `VERSION "t"
BU_: A B
BO_ 100 Moto: 8 A
 SG_ Big : 7|16@0+ (1,0) [0|65535] "" B
 SG_ Signed : 23|12@0- (0.5,10) [0|0] "V" B
 SG_ Little : 40|12@1- (1,0) [0|0] "" B
BO_ 2147483848 Muxed: 8 A
 SG_ Mux M : 0|8@1+ (1,0) [0|255] "" B
 SG_ SigA m1 : 8|16@1+ (0.1,0) [0|0] "x" B
 SG_ SigB m2 : 8|8@1+ (1,-40) [0|0] "degC" B
BO_ 300 Fd: 64 A
 SG_ Last : 504|8@1+ (1,0) [0|255] "" B
 SG_ Wide : 0|64@1+ (1,0) [0|0] "" B
 SG_ F32 : 64|32@1- (1,0) [0|0] "" B
SIG_VALTYPE_ 300 F32 : 1;
VAL_ 2147483848 Mux 1 "A" 2 "B" ;
`;
  const db = parseDbc(text);
  const dec = new DbcDecoder(db);

  it('decodes Motorola, signed and scaled signals', () => {
    const data = Uint8Array.from([0x12, 0x34, 0xf0, 0x0f, 0x00, 0xfe, 0x0f, 0x00]);
    const f = dec.decode(100, false, data)!;
    const v = Object.fromEntries(f.signals.map((s) => [s.name, s.value]));
    expect(v.Big).toBe(0x1234);
    // Motorola 12 bits from bit 23: byte2 (0xF0) then the high nibble of byte3 (0x0) → 0xF00 → −256
    expect(v.Signed).toBe(-256 * 0.5 + 10);
    // Intel 12 bits from bit 40: 0xFE | (0xF & 0x0F) << 8 = 0xFFE → −2
    expect(v.Little).toBe(-2);
  });

  it('applies multiplexing and value tables', () => {
    const a = dec.decode(200, true, Uint8Array.from([1, 0x10, 0x27, 0, 0, 0, 0, 0]))!;
    expect(a.signals.map((s) => [s.name, s.value, s.label])).toEqual([
      ['Mux', 1, 'A'],
      ['SigA', 1000, null],
    ]);
    const b = dec.decode(200, true, Uint8Array.from([2, 100, 0, 0, 0, 0, 0, 0]))!;
    expect(b.signals.map((s) => [s.name, s.value])).toEqual([
      ['Mux', 2],
      ['SigB', 60],
    ]);
    expect(dec.decode(200, false, new Uint8Array(8))).toBeNull();
  });

  it('decodes CAN FD payloads up to 64 bytes, wide and float signals, and skips what does not fit', () => {
    const data = new Uint8Array(64);
    data[63] = 0xab;
    data.fill(0xff, 0, 8);
    new DataView(data.buffer).setFloat32(8, 1.5, true);
    const f = dec.decode(300, false, data)!;
    const v = Object.fromEntries(f.signals.map((s) => [s.name, s]));
    expect(v.Last.value).toBe(0xab);
    expect(v.Wide.raw).toBe(0xffffffffffffffffn);
    expect(v.F32.value).toBe(1.5);
    const short = dec.decode(300, false, data.subarray(0, 12))!;
    expect(short.signals.map((s) => s.name)).toEqual(['Wide', 'F32']);
  });
});

describe('DBC parse errors', () => {
  it.each([
    ['BO_ 1 M: 8 A\n SG_ S : 0|8@2+ (1,0) [0|1] "" B\n', 2, 'DBC_INVALID_VALUE'],
    ['BO_ 1 M: 8 A\n SG_ S : 0|8@1+ (1,0 [0|1] "" B\n', 2, 'DBC_SYNTAX'],
    ['VERSION ""\n\n SG_ S : 0|8@1+ (1,0) [0|1] "" B\n', 3, 'DBC_SYNTAX'],
    ['BO_ 1 M: 8 A\nBO_ 1 N: 8 A\n', 2, 'DBC_DUPLICATE'],
    ['BO_ 1 M: 8 A\n SG_ S : 0|70@1+ (1,0) [0|1] "" B\n', 2, 'DBC_INVALID_VALUE'],
    ['CM_ "unterminated\n', 1, 'DBC_SYNTAX'],
    ['BO_ 1 M: 8 A\nVAL_ 1 S 1 "a" 2 "b"\n', 2, 'DBC_SYNTAX'],
    ['BO_ 1 M: 8 A\n SG_ S : 0|8@1+ (1,0) [0|1] "" B\n\u0007', 3, 'DBC_SYNTAX'],
  ])('%j fails at line %i with %s', (src, line, code) => {
    let err: unknown;
    try {
      parseDbc(src);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DbcParseError);
    expect((err as DbcParseError).line).toBe(line);
    expect((err as DbcParseError).code).toBe(code);
  });
});
