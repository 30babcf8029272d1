/**
 * Little-endian field readers over a shared byte buffer (`data` + row offset), used by the
 * hot path and by the object decoders alike. None of them allocate.
 */

/** Unsigned 16-bit little-endian at `off`. */
export function u16le(data: Uint8Array, off: number): number {
  return data[off] | (data[off + 1] << 8);
}

/** Unsigned 24-bit little-endian at `off`. */
export function u24le(data: Uint8Array, off: number): number {
  return data[off] | (data[off + 1] << 8) | (data[off + 2] << 16);
}

/** Unsigned 32-bit little-endian at `off`. */
export function u32le(data: Uint8Array, off: number): number {
  return (data[off] | (data[off + 1] << 8) | (data[off + 2] << 16) | (data[off + 3] << 24)) >>> 0;
}

/**
 * A 2-bit status field at GB/T position `byte.bit` (both 1-based, bit counted from the LSB),
 * e.g. position 6.3 is `(byte6 >> 2) & 3`. `off` is the offset of byte 1.
 */
export function field2(data: Uint8Array, off: number, byte: number, bit: number): number {
  return (data[off + byte - 1] >> (bit - 1)) & 3;
}

/** Voltage with 0.1 V/bit, offset 0, without floating-point noise. */
export function deciVolts(raw: number): number {
  return raw / 10;
}

/** Current with 0.1 A/bit, offset −400 A (negative = charging), without noise. */
export function deciAmps(raw: number): number {
  return (raw - 4000) / 10;
}

/** Lower-case hex of `len` bytes at `off`. */
export function toHex(data: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    const b = data[off + i];
    s += (b < 16 ? '0' : '') + b.toString(16);
  }
  return s;
}

/**
 * ASCII text of `len` bytes, or `null` when the field is absent (every byte 0xFF or 0x00,
 * as GB/T fills unused optional fields). Trailing 0xFF/0x00/space padding is trimmed and
 * non-printable bytes are replaced by `?`.
 */
export function asciiOrNull(data: Uint8Array, off: number, len: number): string | null {
  let end = len;
  while (end > 0) {
    const b = data[off + end - 1];
    if (b !== 0xff && b !== 0 && b !== 0x20) break;
    end--;
  }
  if (end === 0) return null;
  let s = '';
  for (let i = 0; i < end; i++) {
    const b = data[off + i];
    s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '?';
  }
  return s;
}

/** Rounds to `digits` decimals (for derived values such as integrated energy). */
export function roundTo(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
