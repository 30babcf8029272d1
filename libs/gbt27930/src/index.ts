/**
 * `@charge/gbt27930`: J1939 transport reassembly, GB/T 27930 (2011/2015) decoding, the
 * charging-session model, findings and the FINDINGS.md report; DBC parsing and decoding.
 *
 * Entry points: {@link analyzeLog} (an opened can-log log), {@link analyzeBatches} (any
 * stream of frame batches), {@link ChargingAnalyzer} (synchronous `push`/`finish`).
 */
export * from './analyze';
export * from './report-types';
export { CHARGER_ADDRESS, BMS_ADDRESS, pgnOfId, composeId, formatCanId, isChargerBmsId } from './can-id';
export {
  Pgn,
  MESSAGE_DEFINITIONS,
  PHASE_ORDER,
  EDITION_2023_PGNS,
  messageForPgn,
  pgnLabel,
  type GbtMessageName,
  type MessageDefinition,
  type PhaseName,
} from './message-catalog';
export {
  decodeMessageFields,
  batteryTypeLabel,
  protocolVersion,
  BATTERY_TYPES,
  type DecodedFields,
  type DecodedValue,
} from './message-decoders';
export {
  BST_FIELDS,
  CST_FIELDS,
  BEM_FIELDS,
  CEM_FIELDS,
  BSM_FIELDS,
  type Severity,
  type StatusField,
} from './status-fields';
export { FINDING_CATALOG, type FindingDefinition } from './findings/finding-catalog';
export {
  J1939Transport,
  TpControl,
  TP_MAX_SIZE,
  type TransferFailure,
  type TransferFailureKind,
  type TransportListener,
  type TransportOptions,
} from './j1939-transport';
export {
  GbtMessageDecoder,
  isGbtTraffic,
  type DecodedGbtMessage,
  type GbtDecoderListener,
} from './gbt-decoder';
export { MessageCensus, type CensusResult, type DecodedSample, type TpTransferCount } from './message-census';
export {
  SessionBuilder,
  SESSION_GAP_S,
  type SessionBuilderOptions,
  type FrameTotals,
} from './session-builder';
export { SeriesDownsampler } from './series-downsampler';
export * from './sample-session';
export { parseDbc } from './dbc/dbc-parser';
export { DbcParseError, isDbcParseError, type DbcErrorCode } from './dbc/dbc-errors';
export {
  DbcDecoder,
  compileSignal,
  extractRaw,
  physicalValue,
  signalBitPositions,
  type CompiledSignal,
  type DecodedDbcFrame,
  type DecodedSignal,
} from './dbc/dbc-decoder';
export { DbcSignalCollector } from './dbc/dbc-signal-collector';
export {
  dbcKey,
  type DbcByteOrder,
  type DbcDatabase,
  type DbcMessage,
  type DbcSignal,
  type DbcValueType,
} from './dbc/dbc-types';
