/** Numeric constants of Vector's Binary Logging Format (see shared/docs/BLF_FORMAT.md). */

/** `LOGG` as a little-endian u32. */
export const BLF_FILE_SIGNATURE = 0x47474f4c;
/** `LOBJ` as a little-endian u32. */
export const BLF_OBJECT_SIGNATURE = 0x4a424f4c;
/** Size of the file header written by Vector tools and by our writer. */
export const BLF_FILE_HEADER_SIZE = 144;
/** Size of the base object header (signature, sizes, version, type). */
export const BLF_BASE_HEADER_SIZE = 16;

/** Object type numbers used by this library. */
export const BlfObjectType = {
  CAN_MESSAGE: 1,
  CAN_ERROR: 2,
  CAN_OVERLOAD: 3,
  CAN_STATISTIC: 4,
  LOG_CONTAINER: 10,
  CAN_DRIVER_ERROR: 31,
  APP_TEXT: 65,
  CAN_ERROR_EXT: 73,
  CAN_DRIVER_ERROR_EXT: 74,
  CAN_MESSAGE2: 86,
  EVENT_COMMENT: 92,
  GLOBAL_MARKER: 96,
  CAN_FD_MESSAGE: 100,
  CAN_FD_MESSAGE_64: 101,
  CAN_FD_ERROR_64: 104,
} as const;

const TYPE_NAMES: Record<number, string> = {
  0: 'UNKNOWN',
  1: 'CAN_MESSAGE',
  2: 'CAN_ERROR',
  3: 'CAN_OVERLOAD',
  4: 'CAN_STATISTIC',
  5: 'APP_TRIGGER',
  6: 'ENV_INTEGER',
  7: 'ENV_DOUBLE',
  8: 'ENV_STRING',
  9: 'ENV_DATA',
  10: 'LOG_CONTAINER',
  31: 'CAN_DRIVER_ERROR',
  44: 'CAN_DRIVER_SYNC',
  65: 'APP_TEXT',
  71: 'ETHERNET_FRAME',
  72: 'SYS_VARIABLE',
  73: 'CAN_ERROR_EXT',
  74: 'CAN_DRIVER_ERROR_EXT',
  86: 'CAN_MESSAGE2',
  92: 'EVENT_COMMENT',
  96: 'GLOBAL_MARKER',
  100: 'CAN_FD_MESSAGE',
  101: 'CAN_FD_MESSAGE_64',
  104: 'CAN_FD_ERROR_64',
  115: 'Unknown115',
  118: 'TEST_STRUCTURE',
  128: 'TRIGGER_CONDITION',
  129: 'CAN_SETTING_CHANGED',
};

/** Name of a BLF object type (`"160"` for types without a name here). */
export function blfObjectTypeName(type: number): string {
  return TYPE_NAMES[type] ?? String(type);
}

const APPLICATION_NAMES: Record<number, string> = {
  0: 'Unknown',
  1: 'CANalyzer',
  2: 'CANoe',
  3: 'CANstress',
  4: 'CANlog',
  5: 'CANape',
  6: 'CANcaseXL log',
  7: 'Vector Logger Configurator',
  200: 'Porsche Logger',
  201: 'CAETEC Logger',
  202: 'Vector Network Simulator',
  203: 'IPETRONIK logger',
  204: 'RT PK',
  205: 'PikeTec',
  206: 'Sparks',
};

/** Name of the writing application from the header's applicationId. */
export function blfApplicationName(id: number): string {
  return APPLICATION_NAMES[id] ?? `Application ${id}`;
}

/** CAN FD DLC code → payload length. */
export const FD_DLC_TO_LENGTH: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

/** Payload length → smallest CAN FD DLC code that holds it. */
export function lengthToFdDlc(length: number): number {
  if (length <= 8) return length;
  for (let dlc = 9; dlc < 16; dlc++) if (FD_DLC_TO_LENGTH[dlc] >= length) return dlc;
  return 15;
}
