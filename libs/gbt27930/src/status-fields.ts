/**
 * The 2-bit status fields of BST, CST, BEM, CEM and BSM, with their GB/T positions, the
 * finding code each raises (FINDINGS.md) and a Chinese description. Shared by the message
 * decoders and the findings.
 */

/** Severity of a finding (FINDINGS.md). */
export type Severity = 'info' | 'warning' | 'critical';

/** One 2-bit field and the finding it raises when it holds `value`. */
export interface StatusField {
  /** Key in the decoded message object. */
  key: string;
  /** Group in the decoded object (`reasons`, `faults`, `errors`, or '' for flat messages). */
  group: string;
  /** 1-based byte and bit (LSB = 1). */
  byte: number;
  bit: number;
  /** Value that raises the finding (01 for most fields, 10 for "too low"). */
  value: number;
  code: string;
  severity: Severity;
  /** Chinese description for messages. */
  text: string;
}

function f(
  key: string,
  group: string,
  byte: number,
  bit: number,
  code: string,
  severity: Severity,
  text: string,
  value = 1,
): StatusField {
  return { key, group, byte, bit, value, code, severity, text };
}

/** BST (BMS stop) fields. */
export const BST_FIELDS: readonly StatusField[] = [
  f(
    'socTargetReached',
    'reasons',
    1,
    1,
    'BMS_SOC_TARGET_REACHED',
    'info',
    'BMS 中止：达到所需求的 SOC 目标值',
  ),
  f(
    'totalVoltageReached',
    'reasons',
    1,
    3,
    'BMS_TOTAL_VOLTAGE_REACHED',
    'info',
    'BMS 中止：达到总电压设定值',
  ),
  f(
    'cellVoltageReached',
    'reasons',
    1,
    5,
    'BMS_CELL_VOLTAGE_REACHED',
    'info',
    'BMS 中止：达到单体电压设定值',
  ),
  f('chargerStopped', 'reasons', 1, 7, 'BMS_STOPPED_BY_CHARGER', 'info', 'BMS 中止：充电机主动中止'),
  f('insulation', 'faults', 2, 1, 'BST_INSULATION_FAULT', 'critical', 'BMS 中止：绝缘故障'),
  f(
    'outputConnectorOverTemp',
    'faults',
    2,
    3,
    'BST_OUTPUT_CONNECTOR_OVERTEMP',
    'critical',
    'BMS 中止：输出连接器过温',
  ),
  f(
    'bmsComponentOverTemp',
    'faults',
    2,
    5,
    'BST_BMS_COMPONENT_OVERTEMP',
    'critical',
    'BMS 中止：BMS 元件/输出连接器过温',
  ),
  f(
    'chargingConnector',
    'faults',
    2,
    7,
    'BST_CHARGING_CONNECTOR_FAULT',
    'critical',
    'BMS 中止：充电连接器故障',
  ),
  f('batteryOverTemp', 'faults', 3, 1, 'BST_BATTERY_OVERTEMP', 'critical', 'BMS 中止：电池组温度过高'),
  f('hvRelay', 'faults', 3, 3, 'BST_HV_RELAY_FAULT', 'critical', 'BMS 中止：高压继电器故障'),
  f('cc2Voltage', 'faults', 3, 5, 'BST_CC2_VOLTAGE_FAULT', 'critical', 'BMS 中止：检测点 2 电压检测故障'),
  f('other', 'faults', 3, 7, 'BST_OTHER_FAULT', 'critical', 'BMS 中止：其他故障'),
  f('overCurrent', 'errors', 4, 1, 'BST_CURRENT_TOO_HIGH', 'critical', 'BMS 中止：电流过大'),
  f('voltageAbnormal', 'errors', 4, 3, 'BST_VOLTAGE_ABNORMAL', 'critical', 'BMS 中止：电压异常'),
];

/** CST (charger stop) fields. */
export const CST_FIELDS: readonly StatusField[] = [
  f(
    'conditionReached',
    'reasons',
    1,
    1,
    'CHARGER_CONDITION_REACHED',
    'info',
    '充电机中止：达到充电机设定条件',
  ),
  f('manualStop', 'reasons', 1, 3, 'CHARGER_MANUAL_STOP', 'info', '充电机人工停止'),
  f('faultStop', 'reasons', 1, 5, 'CHARGER_FAULT_STOP', 'critical', '充电机故障中止'),
  f('bmsStopped', 'reasons', 1, 7, 'CHARGER_STOPPED_BY_BMS', 'info', '充电机中止：BMS 主动中止'),
  f('chargerOverTemp', 'faults', 2, 1, 'CST_CHARGER_OVERTEMP', 'critical', '充电机中止：充电机过温'),
  f('chargingConnector', 'faults', 2, 3, 'CST_CONNECTOR_FAULT', 'critical', '充电机中止：充电连接器故障'),
  f(
    'chargerInternalOverTemp',
    'faults',
    2,
    5,
    'CST_INTERNAL_OVERTEMP',
    'critical',
    '充电机中止：充电机内部过温',
  ),
  f(
    'energyNotDeliverable',
    'faults',
    2,
    7,
    'CST_ENERGY_UNDELIVERABLE',
    'critical',
    '充电机中止：所需电量不能传送',
  ),
  f('emergencyStop', 'faults', 3, 1, 'CST_EMERGENCY_STOP', 'critical', '充电机急停'),
  f('other', 'faults', 3, 3, 'CST_OTHER_FAULT', 'critical', '充电机中止：其他故障'),
  f('currentMismatch', 'errors', 4, 1, 'CST_CURRENT_MISMATCH', 'critical', '充电机中止：电流不匹配'),
  f('voltageAbnormal', 'errors', 4, 3, 'CST_VOLTAGE_ABNORMAL', 'critical', '充电机中止：电压异常'),
];

/** BEM (BMS receive timeouts) fields. */
export const BEM_FIELDS: readonly StatusField[] = [
  f('crm00Timeout', '', 1, 1, 'BEM_CRM_00_TIMEOUT', 'critical', 'BMS 接收 CRM(0x00) 超时'),
  f('crmAATimeout', '', 1, 3, 'BEM_CRM_AA_TIMEOUT', 'critical', 'BMS 接收 CRM(0xAA) 超时'),
  f('ctsCmlTimeout', '', 2, 1, 'BEM_CTS_CML_TIMEOUT', 'critical', 'BMS 接收 CTS/CML 超时'),
  f('croTimeout', '', 2, 3, 'BEM_CRO_TIMEOUT', 'critical', 'BMS 接收 CRO 超时'),
  f('ccsTimeout', '', 3, 1, 'BEM_CCS_TIMEOUT', 'critical', 'BMS 接收 CCS 超时'),
  f('cstTimeout', '', 3, 3, 'BEM_CST_TIMEOUT', 'critical', 'BMS 接收 CST 超时'),
  f('csdTimeout', '', 4, 1, 'BEM_CSD_TIMEOUT', 'critical', 'BMS 接收 CSD 超时'),
];

/** CEM (charger receive timeouts) fields. */
export const CEM_FIELDS: readonly StatusField[] = [
  f('brmTimeout', '', 1, 1, 'CEM_BRM_TIMEOUT', 'critical', '充电机接收 BRM 超时'),
  f('bcpTimeout', '', 2, 1, 'CEM_BCP_TIMEOUT', 'critical', '充电机接收 BCP 超时'),
  f('broTimeout', '', 2, 3, 'CEM_BRO_TIMEOUT', 'critical', '充电机接收 BRO 超时'),
  f('bcsTimeout', '', 3, 1, 'CEM_BCS_TIMEOUT', 'critical', '充电机接收 BCS 超时'),
  f('bclTimeout', '', 3, 3, 'CEM_BCL_TIMEOUT', 'critical', '充电机接收 BCL 超时'),
  f('bstTimeout', '', 3, 5, 'CEM_BST_TIMEOUT', 'critical', '充电机接收 BST 超时'),
  f('bsdTimeout', '', 4, 1, 'CEM_BSD_TIMEOUT', 'critical', '充电机接收 BSD 超时'),
];

/** BSM (battery status) alarm fields (bytes 6–7). */
export const BSM_FIELDS: readonly StatusField[] = [
  f('cellVoltageState', '', 6, 1, 'BSM_CELL_VOLTAGE_HIGH', 'warning', '单体电压过高'),
  f('cellVoltageState', '', 6, 1, 'BSM_CELL_VOLTAGE_LOW', 'warning', '单体电压过低', 2),
  f('socState', '', 6, 3, 'BSM_SOC_HIGH', 'warning', '整车 SOC 过高'),
  f('socState', '', 6, 3, 'BSM_SOC_LOW', 'warning', '整车 SOC 过低', 2),
  f('overCurrent', '', 6, 5, 'BSM_OVERCURRENT', 'warning', '充电过电流'),
  f('overTemp', '', 6, 7, 'BSM_BATTERY_OVERTEMP', 'warning', '动力蓄电池温度过高'),
  f('insulation', '', 7, 1, 'BSM_INSULATION_ABNORMAL', 'warning', '动力蓄电池绝缘状态异常'),
  f('outputConnector', '', 7, 3, 'BSM_CONNECTOR_ABNORMAL', 'warning', '输出连接器连接状态异常'),
];
