/** Opens input files, turning read/parse failures into {@link InputError}s (exit 3). */
import * as fs from 'node:fs/promises';
import { isCanLogError, openLog, type LogReader } from '@charge/can-log';
import { isDbcParseError, parseDbc, type DbcDatabase } from '@charge/gbt27930';
import { InputError } from './cli-errors';

/** Opens a CAN log. */
export async function openInput(file: string): Promise<LogReader> {
  try {
    await fs.access(file);
    return await openLog(file);
  } catch (e) {
    throw new InputError(`${file}: ${describe(e)}`);
  }
}

/** Reads and parses a DBC file. */
export async function readDbc(file: string): Promise<DbcDatabase> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: ${describe(e)}`);
  }
  try {
    return parseDbc(text);
  } catch (e) {
    if (isDbcParseError(e)) throw new InputError(`${file}: ${e.message}`);
    throw e;
  }
}

/** Runs `fn`, mapping can-log read errors (met while iterating) to {@link InputError}. */
export async function reading<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isCanLogError(e)) throw new InputError(`${file}: ${e.message}`);
    throw e;
  }
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return 'no such file';
  if (err?.code === 'EACCES') return 'permission denied';
  if (err?.code === 'EISDIR') return 'is a directory';
  return err?.message ?? String(e);
}
