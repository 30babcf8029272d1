/** `info FILE`: a file summary in the spirit of MATLAB's `blfinfo`. */
import { readLogInfo, type LogInfo } from '@charge/can-log';
import { parse, positionals } from '../args';
import { openInput, reading } from '../open-input';
import type { CliIo } from '../output';

function iso(d: Date | undefined): string {
  return d ? d.toISOString() : '—';
}

/** Formats a {@link LogInfo}. */
export function formatInfo(info: LogInfo): string {
  const s = info.stats;
  const h = info.blfHeader;
  const lines = [
    `File:          ${info.name}`,
    `Format:        ${info.format}${info.encoding ? ` (${info.encoding})` : ''}`,
  ];
  if (h) {
    lines.push(
      `Application:   ${h.applicationName} ${h.applicationVersion}`,
      `BL API:        ${h.apiVersion}`,
    );
    lines.push(`Objects:       ${h.objectCount} (header)`);
    if (info.containers !== undefined)
      lines.push(`Containers:    ${info.containers} (${info.inflatedBytes} bytes inflated)`);
  } else if (s.writer) lines.push(`Writer:        ${s.writer}`);
  lines.push(`Size:          ${s.totalBytes ?? s.bytesRead} bytes`);
  lines.push(`Start time:    ${iso(s.startTime)}`, `End time:      ${iso(s.endTime)}`);
  if (s.minTimestamp !== undefined && s.maxTimestamp !== undefined)
    lines.push(`Duration:      ${(s.maxTimestamp - s.minTimestamp).toFixed(6)} s`);
  lines.push(`CAN frames:    ${s.frames}`, `Error frames:  ${s.errorFrames}`);
  lines.push('Objects per type:');
  for (const [k, n] of Object.entries(s.objectsPerType).sort()) lines.push(`  ${k.padEnd(24)} ${n}`);
  lines.push('Frames per channel:');
  for (const [ch, n] of Object.entries(s.framesPerChannel)) {
    const name = info.channelNames[Number(ch)];
    lines.push(`  ${ch.padStart(3)}${name ? ` (${name})` : ''}  ${n}`);
  }
  lines.push(`Warnings:      ${s.warningCount}`);
  for (const w of info.warnings) lines.push(`  ${w.code}: ${w.message}`);
  return lines.join('\n') + '\n';
}

/** Runs `info`. */
export async function infoCommand(argv: string[], io: CliIo): Promise<number> {
  const { positionals: pos } = parse(argv, {});
  const [file] = positionals(pos, ['FILE']);
  await openInput(file); // existence and format check (exit 3)
  const info = await reading(file, () => readLogInfo(file));
  io.stdout.write(formatInfo(info));
  return 0;
}
