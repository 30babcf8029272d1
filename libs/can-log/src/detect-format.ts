/** Content-based detection of the log format (the file extension is never consulted). */

/** Formats this library reads. */
export type LogFormat = 'blf' | 'asc' | 'candump' | 'zlg';

const CANDUMP = /^\(\d+(?:\.\d+)?\)\s+\S+\s+[0-9A-Fa-f]{1,8}#/;
const ASC_HEADER =
  /^(date\s|base\s+(hex|dec)\b|begin\s+triggerblock\b|(no\s+)?internal\s+events\s+logged\b|\/\/\s*version\b)/i;
const ASC_EVENT = /^\d+\.\d+\s+(\d+\s+([0-9A-Fa-f]+x?\s+(Rx|Tx)\b|ErrorFrame\b)|CANFD\s+\d+\s+(Rx|Tx)\b)/;
/** Any line starting with a decimal timestamp and more fields (statistics, comments, …). */
const ASC_ANY_EVENT = /^\d+\.\d+\s+\S/;
const ZLG_HEADER = /(序号|帧ID|传输方向)/;
const ZLG_ROW = /^\d+\s+(接收|发送)\s+/;
/** `序号` in GBK. */
const GBK_INDEX = [0xd0, 0xf2, 0xba, 0xc5];
/** `帧ID` in GBK. */
const GBK_FRAME_ID = [0xd6, 0xa1, 0x49, 0x44];
/** `接收` (received) and `发送` (sent) in GBK. */
const GBK_RX = [0xbd, 0xd3, 0xca, 0xd5];
const GBK_TX = [0xb7, 0xa2, 0xcb, 0xcd];

function contains(head: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= head.length; i++) {
    for (let j = 0; j < needle.length; j++) if (head[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * Guesses the format from the first bytes of a log (4 KiB or more recommended).
 * @returns the format, or `undefined` when none matches.
 */
export function detectFormat(head: Uint8Array): LogFormat | undefined {
  if (head.length >= 4 && head[0] === 0x4c && head[1] === 0x4f && head[2] === 0x47 && head[3] === 0x47)
    return 'blf';
  const sample = head.subarray(0, 16384);
  // Text formats: NUL bytes rule them out.
  if (sample.includes(0)) return undefined;
  const text = new TextDecoder('utf-8').decode(sample).replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/).slice(0, 50);
  // The last line may be cut off mid-way; only use it when it is the only one.
  if (lines.length > 1) lines.pop();
  let asc = 0;
  for (const raw of lines) {
    const line = raw.trim();
    if (line.length === 0) continue;
    if (CANDUMP.test(line)) return 'candump';
    if (ZLG_HEADER.test(line) || ZLG_ROW.test(line)) return 'zlg';
    if (ASC_HEADER.test(line) || ASC_EVENT.test(line) || ASC_ANY_EVENT.test(line)) asc++;
  }
  if (asc > 0) return 'asc';
  if ([GBK_INDEX, GBK_FRAME_ID, GBK_RX, GBK_TX].some((n) => contains(sample, n))) return 'zlg';
  return undefined;
}
