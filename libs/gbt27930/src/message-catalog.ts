/**
 * The GB/T 27930 message catalogue (2011 and 2015 editions): PGNs, names, priorities,
 * directions, lengths and the charging phase each message belongs to.
 */

/** Parameter group numbers used by GB/T 27930 (PF << 8). */
export const Pgn = {
  CHM: 0x2600,
  BHM: 0x2700,
  CRM: 0x0100,
  BRM: 0x0200,
  BCP: 0x0600,
  CTS: 0x0700,
  CML: 0x0800,
  BRO: 0x0900,
  CRO: 0x0a00,
  BCL: 0x1000,
  BCS: 0x1100,
  CCS: 0x1200,
  BSM: 0x1300,
  BMV: 0x1500,
  BMT: 0x1600,
  BSP: 0x1700,
  BST: 0x1900,
  CST: 0x1a00,
  BSD: 0x1c00,
  CSD: 0x1d00,
  BEM: 0x1e00,
  CEM: 0x1f00,
  DM1: 0x2000,
  DM2: 0x2100,
  DM3: 0x2200,
  DM4: 0x2300,
  DM5: 0x2400,
  DM6: 0x2500,
  TP_DT: 0xeb00,
  TP_CM: 0xec00,
} as const;

/** Short code of a GB/T message (`BCL`, `CST`, …). */
export type GbtMessageName = Exclude<keyof typeof Pgn, 'TP_DT' | 'TP_CM'>;

/** Charging phase a message belongs to (see FINDINGS.md `lastPhase`). */
export type PhaseName = 'handshake' | 'configuration' | 'charging' | 'ending';

/** Phase order, used to keep a session's phase monotonic. */
export const PHASE_ORDER: readonly PhaseName[] = ['handshake', 'configuration', 'charging', 'ending'];

/** Static facts about one message. */
export interface MessageDefinition {
  name: GbtMessageName;
  pgn: number;
  priority: number;
  /** `charger` when sent by the charger (SA 0x56), `bms` when sent by the BMS (SA 0xF4). */
  sender: 'charger' | 'bms';
  /** Phase index in {@link PHASE_ORDER}, or -1 for messages outside the phase model (errors, diagnostics). */
  phase: number;
  /** Defined length in bytes for 2015 (0 = variable). */
  length2015: number;
  /** Defined length in bytes for 2011 (0 = variable, -1 = not defined in 2011). */
  length2011: number;
  /** Nominal period in milliseconds (0 = event driven). */
  periodMs: number;
  /** True when the message is normally carried by J1939 TP. */
  multiPacket: boolean;
  /** Chinese name, as engineers read it. */
  title: string;
}

function def(
  name: GbtMessageName,
  priority: number,
  sender: 'charger' | 'bms',
  phase: number,
  length2015: number,
  length2011: number,
  periodMs: number,
  multiPacket: boolean,
  title: string,
): MessageDefinition {
  return {
    name,
    pgn: Pgn[name],
    priority,
    sender,
    phase,
    length2015,
    length2011,
    periodMs,
    multiPacket,
    title,
  };
}

/** Every message of the 2011 and 2015 editions (plus the Annex B diagnostic messages). */
export const MESSAGE_DEFINITIONS: readonly MessageDefinition[] = [
  def('CHM', 6, 'charger', 0, 3, -1, 250, false, '充电机握手'),
  def('BHM', 6, 'bms', 0, 2, -1, 250, false, 'BMS 握手'),
  def('CRM', 6, 'charger', 0, 8, 8, 250, false, '充电机辨识'),
  def('BRM', 7, 'bms', 0, 49, 41, 250, true, 'BMS 和车辆辨识'),
  def('BCP', 7, 'bms', 1, 13, 13, 500, true, '动力蓄电池充电参数'),
  def('CTS', 6, 'charger', 1, 7, 7, 500, false, '充电机时间同步'),
  def('CML', 6, 'charger', 1, 8, 6, 250, false, '充电机最大输出能力'),
  def('BRO', 4, 'bms', 1, 1, 1, 250, false, 'BMS 充电准备就绪'),
  def('CRO', 4, 'charger', 1, 1, 1, 250, false, '充电机输出准备就绪'),
  def('BCL', 6, 'bms', 2, 5, 5, 50, false, '电池充电需求'),
  def('BCS', 7, 'bms', 2, 9, 9, 250, true, '电池充电总状态'),
  def('CCS', 6, 'charger', 2, 7, 6, 50, false, '充电机充电状态'),
  def('BSM', 6, 'bms', 2, 7, 7, 250, false, '动力蓄电池状态信息'),
  def('BMV', 7, 'bms', 2, 0, 0, 10000, true, '单体动力蓄电池电压'),
  def('BMT', 7, 'bms', 2, 0, 0, 10000, true, '动力蓄电池温度'),
  def('BSP', 7, 'bms', 2, 0, 0, 10000, true, '动力蓄电池预留报文'),
  def('BST', 4, 'bms', 3, 4, 4, 10, false, 'BMS 中止充电'),
  def('CST', 4, 'charger', 3, 4, 4, 10, false, '充电机中止充电'),
  def('BSD', 6, 'bms', 3, 7, 7, 250, false, 'BMS 统计数据'),
  def('CSD', 6, 'charger', 3, 8, 8, 250, false, '充电机统计数据'),
  def('BEM', 2, 'bms', -1, 4, 4, 250, false, 'BMS 错误报文'),
  def('CEM', 2, 'charger', -1, 4, 4, 250, false, '充电机错误报文'),
  def('DM1', 6, 'bms', -1, 0, 0, 0, false, '当前故障代码'),
  def('DM2', 6, 'bms', -1, 0, 0, 0, false, '历史故障代码'),
  def('DM3', 6, 'charger', -1, 0, 0, 0, false, '诊断就绪'),
  def('DM4', 6, 'charger', -1, 0, 0, 0, false, '当前故障代码清除'),
  def('DM5', 6, 'charger', -1, 0, 0, 0, false, '历史故障代码清除'),
  def('DM6', 6, 'bms', -1, 0, 0, 0, false, '冻结帧参数'),
];

const byPgnHigh: (MessageDefinition | undefined)[] = (() => {
  const table: (MessageDefinition | undefined)[] = new Array(256);
  for (const d of MESSAGE_DEFINITIONS) table[d.pgn >>> 8] = d;
  return table;
})();

/** The definition of a GB/T PGN, or `undefined` for a PGN neither edition defines. */
export function messageForPgn(pgn: number): MessageDefinition | undefined {
  if ((pgn & 0xff) !== 0 || pgn > 0xffff) return undefined;
  return byPgnHigh[pgn >>> 8];
}

/** Known 2023-edition PGNs that 2011/2015 do not define (reported as unknown with a hint). */
export const EDITION_2023_PGNS: Readonly<Record<number, string>> = {
  0x3c00: 'NTM',
  0x3d00: 'EVM',
  0x4100: 'RES',
};

/** Human label for a PGN: the message code, or `PGN 0x3C00` (with a 2023 hint when known). */
export function pgnLabel(pgn: number): string {
  const d = messageForPgn(pgn);
  if (d) return d.name;
  const hex = '0x' + pgn.toString(16).toUpperCase().padStart(4, '0');
  const hint = EDITION_2023_PGNS[pgn];
  return hint ? `PGN ${hex} (2023 ${hint})` : `PGN ${hex}`;
}
