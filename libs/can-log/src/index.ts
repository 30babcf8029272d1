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
export { BLF_DEFAULTS, WARNING_CODES, type BlfReadOptions } from './blf-reader';
export {
  BlfObjectType,
  blfObjectTypeName,
  blfApplicationName,
  FD_DLC_TO_LENGTH,
  lengthToFdDlc,
} from './blf-constants';
export { type TextReadOptions } from './text-frame-source';
export { parseAscDate } from './asc-reader';
export {
  createMemorySink,
  openFileSink,
  type ByteSink,
  type MemorySink,
  type WriteTarget,
} from './byte-sink';
export { type FrameInput, type LogWriter } from './frame-input';
export { createBlfWriter, BlfWriter, type BlfWriterOptions } from './blf-writer';
export { createAscWriter, formatAscDate, type AscWriterOptions } from './asc-writer';
export { createCsvWriter, CSV_COLUMNS, type CsvWriterOptions } from './csv-writer';
export { createCandumpWriter, type CandumpWriterOptions } from './candump-writer';
export { TextLogWriter } from './text-writer';
export {
  writeSyntheticBlf,
  writeSyntheticFrames,
  fillSyntheticBatch,
  seededRandom,
  type SyntheticOptions,
} from './synthetic-log';
export { measureIteration, type IterationMeasurement } from './measure-iteration';
export { createLogWriter, type WriteFormat, type LogWriterOptions } from './create-log-writer';
