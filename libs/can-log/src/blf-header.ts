/** The BLF file header ("file statistics"). */
import { blfApplicationName } from './blf-constants';
import { CanLogError } from './errors';

/** Windows SYSTEMTIME as stored in the file (no time zone). */
export interface SystemTime {
  year: number;
  month: number;
  /** 0 = Sunday. */
  dayOfWeek: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  milliseconds: number;
}

/** Parsed BLF file header. */
export interface BlfHeader {
  /** Bytes of header; objects start here (144 normally, 208 for canview). */
  headerSize: number;
  /** Binlog API number as stored (e.g. 4060200). */
  apiNumber: number;
  /** `apiNumber` as dotted version (4060200 → "4.6.2.0"). */
  apiVersion: string;
  applicationId: number;
  applicationName: string;
  applicationMajor: number;
  applicationMinor: number;
  applicationBuild: number;
  /** "major.minor.build", e.g. "10.0.114" (as MATLAB's blfinfo shows it). */
  applicationVersion: string;
  compressionLevel: number;
  fileSize: number;
  uncompressedFileSize: number;
  /** The header's object count. Informational only; readers never trust it. */
  objectCount: number;
  measurementStartTime: SystemTime;
  lastObjectTime: SystemTime;
  /**
   * `measurementStartTime` as an absolute time, reading the (zone-less) fields as UTC.
   * Undefined when the fields are zero or not a valid date.
   */
  measurementStart: Date | undefined;
  /** `lastObjectTime` read the same way. */
  lastObject: Date | undefined;
  restorePointsOffset: number;
}

/** Bytes of the header this parser reads (the rest is reserved). */
export const BLF_HEADER_MIN_SIZE = 80;
/** Largest header size accepted (protects against absurd headerSize fields). */
export const BLF_HEADER_MAX_SIZE = 65536;

function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
function u64(b: Uint8Array, o: number): number {
  return u32(b, o) + u32(b, o + 4) * 4294967296;
}

function readSystemTime(b: Uint8Array, o: number): SystemTime {
  return {
    year: u16(b, o),
    month: u16(b, o + 2),
    dayOfWeek: u16(b, o + 4),
    day: u16(b, o + 6),
    hour: u16(b, o + 8),
    minute: u16(b, o + 10),
    second: u16(b, o + 12),
    milliseconds: u16(b, o + 14),
  };
}

/** Interprets SYSTEMTIME fields as UTC; undefined when zero or out of range. */
export function systemTimeToDate(t: SystemTime): Date | undefined {
  if (t.year < 1601 || t.year > 30827) return undefined;
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31) return undefined;
  if (t.hour > 23 || t.minute > 59 || t.second > 59 || t.milliseconds > 999) return undefined;
  const ms = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.milliseconds);
  const d = new Date(ms);
  return d.getUTCDate() === t.day ? d : undefined;
}

/** Converts a Date to SYSTEMTIME using its UTC fields (the inverse of {@link systemTimeToDate}). */
export function dateToSystemTime(d: Date | undefined): SystemTime {
  if (!d || Number.isNaN(d.getTime())) {
    return { year: 0, month: 0, dayOfWeek: 0, day: 0, hour: 0, minute: 0, second: 0, milliseconds: 0 };
  }
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    dayOfWeek: d.getUTCDay(),
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    milliseconds: d.getUTCMilliseconds(),
  };
}

/** Decodes apiNumber 4060200 → "4.6.2.0". */
export function formatApiNumber(api: number): string {
  const major = Math.floor(api / 1000000);
  const minor = Math.floor(api / 10000) % 100;
  const build = Math.floor(api / 100) % 100;
  const patch = api % 100;
  return `${major}.${minor}.${build}.${patch}`;
}

/**
 * Parses the file header from the first bytes of a file.
 * @param head at least {@link BLF_HEADER_MIN_SIZE} bytes from offset 0.
 * @throws CanLogError `BAD_HEADER` or `TRUNCATED_HEADER`.
 */
export function parseBlfHeader(head: Uint8Array): BlfHeader {
  const sig = [0x4c, 0x4f, 0x47, 0x47];
  for (let i = 0; i < 4; i++) {
    if (i >= head.length) {
      throw new CanLogError('TRUNCATED_HEADER', 'file too short for a BLF header', { offset: head.length });
    }
    if (head[i] !== sig[i]) throw new CanLogError('BAD_HEADER', 'missing LOGG signature', { offset: 0 });
  }
  if (head.length < 8) {
    throw new CanLogError('TRUNCATED_HEADER', 'file too short for a BLF header', { offset: head.length });
  }
  const headerSize = u32(head, 4);
  if (headerSize < BLF_HEADER_MIN_SIZE || headerSize > BLF_HEADER_MAX_SIZE) {
    throw new CanLogError('BAD_HEADER', `implausible BLF header size ${headerSize}`, { offset: 4 });
  }
  if (head.length < BLF_HEADER_MIN_SIZE) {
    throw new CanLogError('TRUNCATED_HEADER', `file ends inside the BLF header (${head.length} bytes)`, {
      offset: head.length,
    });
  }
  const apiNumber = u32(head, 8);
  const applicationId = head[12];
  const applicationMajor = head[14];
  const applicationMinor = head[15];
  const applicationBuild = u32(head, 36);
  const measurementStartTime = readSystemTime(head, 40);
  const lastObjectTime = readSystemTime(head, 56);
  return {
    headerSize,
    apiNumber,
    apiVersion: formatApiNumber(apiNumber),
    applicationId,
    applicationName: blfApplicationName(applicationId),
    applicationMajor,
    applicationMinor,
    applicationBuild,
    applicationVersion: `${applicationMajor}.${applicationMinor}.${applicationBuild}`,
    compressionLevel: head[13],
    fileSize: u64(head, 16),
    uncompressedFileSize: u64(head, 24),
    objectCount: u32(head, 32),
    measurementStartTime,
    lastObjectTime,
    measurementStart: systemTimeToDate(measurementStartTime),
    lastObject: systemTimeToDate(lastObjectTime),
    restorePointsOffset: u64(head, 72),
  };
}
