/**
 * `@charge/can-log`: streaming CAN log readers (BLF, Vector ASC, candump -L, ZLG CANTest)
 * and writers (BLF, ASC, CSV, candump).
 */
export * from './frame';
export { CanLogError, isCanLogError, type CanLogErrorCode, type CanLogErrorLocation } from './errors';
export { type LogSource, type StreamOptions } from './byte-source';
export { detectFormat, type LogFormat } from './detect-format';
export { openLog, readLogInfo, type LogInfo, type LogReader, type OpenLogOptions } from './open-log';
export { type LogStats } from './log-stats';
export {
  parseBlfHeader,
  systemTimeToDate,
  dateToSystemTime,
  formatApiNumber,
  type BlfHeader,
  type SystemTime,
} from './blf-header';
export { BLF_DEFAULTS, type BlfReadOptions } from './blf-reader';
export {
  BlfObjectType,
  blfObjectTypeName,
  blfApplicationName,
  FD_DLC_TO_LENGTH,
  lengthToFdDlc,
} from './blf-constants';
export { type TextReadOptions } from './text-frame-source';
export { parseAscDate } from './asc-reader';
