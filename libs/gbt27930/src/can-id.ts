/** GB/T 27930 addressing on 29-bit J1939-style identifiers. */

/** Source address of the off-board charger. */
export const CHARGER_ADDRESS = 0x56;
/** Source address of the battery management system. */
export const BMS_ADDRESS = 0xf4;

/** Parameter group number of a PDU1 identifier (`PF << 8`; PS is the destination). */
export function pgnOfId(id: number): number {
  const pf = (id >>> 16) & 0xff;
  return pf < 0xf0 ? (id >>> 8) & 0x3ff00 : (id >>> 8) & 0x3ffff;
}

/** True when `id` is a frame between the charger and the BMS (either direction). */
export function isChargerBmsId(id: number): boolean {
  const sa = id & 0xff;
  const da = (id >>> 8) & 0xff;
  return (sa === CHARGER_ADDRESS && da === BMS_ADDRESS) || (sa === BMS_ADDRESS && da === CHARGER_ADDRESS);
}

/** The 29-bit identifier a message would have if sent in one frame. */
export function composeId(priority: number, pgn: number, source: number, destination: number): number {
  return (
    (((priority & 7) << 26) |
      (((pgn >>> 8) & 0x3ff) << 16) |
      ((destination & 0xff) << 8) |
      (source & 0xff)) >>>
    0
  );
}

/** `0x1801F456`-style text (upper-case, 8 digits for extended ids, 3 for standard ones). */
export function formatCanId(id: number, extended = true): string {
  return (
    '0x' +
    id
      .toString(16)
      .toUpperCase()
      .padStart(extended ? 8 : 3, '0')
  );
}
