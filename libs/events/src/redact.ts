const SECRET_KEY = /pass(word)?|secret|token|hash|api[_-]?key|private[_-]?key|authorization|credential/i;

/** Replaces the values of secret-looking keys (recursively) with "[REDACTED]". */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) ? '[REDACTED]' : redactSecrets(v),
      ]),
    );
  }
  return value;
}
