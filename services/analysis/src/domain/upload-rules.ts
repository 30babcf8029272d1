import { DomainError } from '@charge/errors';

/** Largest chunk of an upload stream. */
export const MAX_CHUNK_BYTES = 1024 * 1024;

export interface UploadMetadata {
  name: string;
  description: string;
  fileName: string;
  /** Undefined when the client did not declare it (REST uploads); MAX_LOG_BYTES still applies. */
  declaredSize?: number;
}

/** Validates and normalizes the first message of an upload. */
export function checkUploadMetadata(
  raw: { name: string; description: string; fileName: string; declaredSize?: string },
  maxBytes: number,
): UploadMetadata {
  const name = raw.name.trim();
  if (name.length === 0 || name.length > 100)
    throw DomainError.invalidArgument('metadata.name', 'must be 1 to 100 characters');
  if (raw.description.length > 2000)
    throw DomainError.invalidArgument('metadata.description', 'must be at most 2000 characters');
  // Display only: control characters removed, never used as a path.
  // eslint-disable-next-line no-control-regex
  const fileName = raw.fileName.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (fileName.length > 255)
    throw DomainError.invalidArgument('metadata.file_name', 'must be at most 255 characters');
  if (raw.declaredSize === undefined) return { name, description: raw.description, fileName };
  const declaredSize = Number(raw.declaredSize);
  if (!Number.isSafeInteger(declaredSize) || declaredSize <= 0)
    throw DomainError.invalidArgument('metadata.declared_size', 'must be a positive byte count');
  if (declaredSize > maxBytes) throw logTooLarge(maxBytes);
  return { name, description: raw.description, fileName, declaredSize };
}

export function logTooLarge(maxBytes: number): DomainError {
  return new DomainError('resourceExhausted', `log exceeds the limit of ${maxBytes} bytes`, {
    reason: 'LOG_TOO_LARGE',
    metadata: { 'max-bytes': String(maxBytes) },
  });
}
