/** Every finding code of FINDINGS.md with its severity (for documentation, UIs and tests). */
import { BEM_FIELDS, BSM_FIELDS, BST_FIELDS, CEM_FIELDS, CST_FIELDS, type Severity } from '../status-fields';

/** One catalog entry. */
export interface FindingDefinition {
  code: string;
  severity: Severity;
  /** What raises it. */
  source: string;
}

/** The analyzer's own checks. */
const ANALYZER_CHECKS: FindingDefinition[] = [
  { code: 'MESSAGE_TIMEOUT_BCL', severity: 'warning', source: 'BCL gap > 1 s while charging' },
  { code: 'MESSAGE_TIMEOUT_CCS', severity: 'warning', source: 'CCS gap > 1 s while charging' },
  { code: 'MESSAGE_TIMEOUT_BCS', severity: 'warning', source: 'BCS gap > 5 s while charging' },
  { code: 'OUTPUT_VOLTAGE_DEVIATION', severity: 'warning', source: 'CCS voltage vs BCL/BCS for ≥ 5 s' },
  { code: 'OUTPUT_CURRENT_DEVIATION', severity: 'warning', source: 'CCS current above BCL demand for ≥ 5 s' },
  { code: 'CELL_VOLTAGE_LIMIT_EXCEEDED', severity: 'critical', source: 'BCS max cell voltage > BCP limit' },
  { code: 'TEMPERATURE_LIMIT_EXCEEDED', severity: 'critical', source: 'BSM max temperature > BCP limit' },
  { code: 'CHARGING_PAUSED', severity: 'info', source: 'BSM 7.5 = 00 or CCS 7.1 = 00 while charging' },
  { code: 'SESSION_INCOMPLETE', severity: 'warning', source: 'session ended before the charging phase' },
  { code: 'TP_TRANSFER_ABORTED', severity: 'info', source: 'TP.CM Abort or an RTS never completed' },
  { code: 'BUS_ERROR_FRAMES', severity: 'info', source: 'error frames on any channel' },
  { code: 'UNKNOWN_GBT_MESSAGE', severity: 'info', source: 'charger↔BMS PGN not defined by 2011/2015' },
];

/** The full catalog, in FINDINGS.md order. */
export const FINDING_CATALOG: readonly FindingDefinition[] = [
  ...[
    BST_FIELDS.slice(0, 4),
    CST_FIELDS.slice(0, 4),
    BST_FIELDS.slice(4),
    CST_FIELDS.slice(4),
    BEM_FIELDS,
    CEM_FIELDS,
    BSM_FIELDS,
  ]
    .flat()
    .map((f) => ({ code: f.code, severity: f.severity, source: `${f.byte}.${f.bit}` })),
  ...ANALYZER_CHECKS,
];
