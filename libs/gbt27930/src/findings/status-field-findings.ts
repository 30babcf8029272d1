/**
 * Findings read straight off the bus: stop reasons and faults (BST, CST), receive timeouts
 * (BEM, CEM) and battery alarms (BSM), one per field that holds its alarm value.
 */
import type { StatusField } from '../status-fields';
import type { FindingRecorder } from './finding-recorder';

/**
 * Raises (or extends) a finding for each field of `fields` whose 2-bit value equals the field's
 * alarm value. `source` names the message for the text ("CST"); fields beyond `len` are skipped.
 */
export function raiseStatusFindings(
  recorder: FindingRecorder,
  fields: readonly StatusField[],
  source: string,
  time: number,
  canId: number,
  data: Uint8Array,
  off: number,
  len: number,
): void {
  for (let k = 0; k < fields.length; k++) {
    const s = fields[k];
    if (s.byte > len) continue;
    if (((data[off + s.byte - 1] >> (s.bit - 1)) & 3) !== s.value) continue;
    const existing = recorder.get(s.code);
    if (existing) existing.repeat(time, source, canId, data, off, len);
    else
      recorder.raise(
        s.code,
        s.code,
        s.severity,
        time,
        `${s.text} (${source} ${s.byte}.${s.bit}${s.value === 2 ? ' = 10' : ''})`,
        source,
        canId,
        data,
        off,
        len,
      );
  }
}
