import { DomainError } from '@charge/errors';

/** A positive integer id, or INVALID_ARGUMENT naming the field. */
export function requireId(field: string, id: number): number {
  if (!Number.isInteger(id) || id <= 0) throw DomainError.invalidArgument(field, 'must be a positive id');
  return id;
}

/** Trimmed text of at most `max` characters (required unless told otherwise). */
export function requireText(field: string, value: string | undefined, max: number, required = true): string {
  const v = (value ?? '').trim();
  if (required && !v) throw DomainError.invalidArgument(field, 'is required');
  if (v.length > max) throw DomainError.invalidArgument(field, `must be at most ${max} characters`);
  return v;
}
