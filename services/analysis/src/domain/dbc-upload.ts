import { DomainError } from '@charge/errors';
import { isDbcParseError, parseDbc, type DbcDatabase } from '@charge/gbt27930';

export const MAX_DBC_BYTES = 4 * 1024 * 1024;

export interface CheckedDbc {
  name: string;
  fileName: string;
  text: string;
  database: DbcDatabase;
  messageCount: number;
  signalCount: number;
}

/** DBC text: UTF-8 when valid, else Latin-1 (older tools write ANSI code pages). */
export function decodeDbcText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return Buffer.from(bytes).toString('latin1');
  }
}

/** Validates an uploaded DBC: name, size, and that it parses and defines at least one message. */
export function checkDbcUpload(raw: { name: string; fileName: string; content: Uint8Array }): CheckedDbc {
  const name = raw.name.trim();
  if (name.length === 0 || name.length > 100)
    throw DomainError.invalidArgument('name', 'must be 1 to 100 characters');
  // eslint-disable-next-line no-control-regex
  const fileName = raw.fileName.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (fileName.length > 255) throw DomainError.invalidArgument('file_name', 'must be at most 255 characters');
  if (raw.content.length === 0) throw DomainError.invalidArgument('content', 'must not be empty');
  if (raw.content.length > MAX_DBC_BYTES)
    throw DomainError.invalidArgument('content', `must be at most ${MAX_DBC_BYTES} bytes`, 'DBC_TOO_LARGE');
  const text = decodeDbcText(raw.content);
  let database: DbcDatabase;
  try {
    database = parseDbc(text);
  } catch (error) {
    if (isDbcParseError(error))
      throw DomainError.invalidArgument('content', `not a valid DBC: ${error.message}`, 'DBC_INVALID');
    throw error;
  }
  if (database.messages.length === 0)
    throw DomainError.invalidArgument('content', 'the DBC defines no messages', 'DBC_INVALID');
  return {
    name,
    fileName,
    text,
    database,
    messageCount: database.messages.length,
    signalCount: database.messages.reduce((n, m) => n + m.signals.length, 0),
  };
}
