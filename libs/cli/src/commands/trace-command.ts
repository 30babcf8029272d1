/** `trace FILE [--id …] [--from …] [--to …] [--decode] [--limit N]`: one line per frame. */
import { FrameFlag, MAX_PAYLOAD, type FrameBatch } from '@charge/can-log';
import { GbtMessageDecoder, type DecodedGbtMessage } from '@charge/gbt27930';
import { numberOption, parse, positionals } from '../args';
import { UsageError } from '../cli-errors';
import { openInput, reading } from '../open-input';
import type { CliIo } from '../output';

function parseIds(v: string | boolean | undefined): Set<number> | null {
  if (typeof v !== 'string') return null;
  const ids = new Set<number>();
  for (const part of v.split(',')) {
    const p = part.trim().replace(/^0x/i, '');
    if (!/^[0-9a-fA-F]{1,8}$/.test(p))
      throw new UsageError(`--id needs hex ids, got ${JSON.stringify(part)}`);
    ids.add(parseInt(p, 16));
  }
  return ids;
}

/** One trace line (candump/ASC-like). */
export function traceLine(b: FrameBatch, i: number): string {
  const f = b.flags[i];
  const t = b.timestamps[i].toFixed(6).padStart(14);
  const ch = String(b.channels[i]).padStart(2);
  if (f & FrameFlag.Error) return `${t} ${ch}  ErrorFrame`;
  const ext = (f & FrameFlag.Extended) !== 0;
  const id =
    b.ids[i]
      .toString(16)
      .toUpperCase()
      .padStart(ext ? 8 : 3, '0') + (ext ? 'x' : ' ');
  const dir = f & FrameFlag.Tx ? 'Tx' : 'Rx';
  const kind = f & FrameFlag.Fd ? 'FD' : f & FrameFlag.Remote ? 'r ' : 'd ';
  const len = b.lengths[i];
  let data = '';
  const off = i * MAX_PAYLOAD;
  for (let k = 0; k < len; k++)
    data += (k ? ' ' : '') + b.data[off + k].toString(16).toUpperCase().padStart(2, '0');
  return `${t} ${ch}  ${id.padEnd(9)} ${dir} ${kind} ${String(len).padStart(2)}  ${data}`;
}

function decodedLine(m: DecodedGbtMessage): string {
  return `${''.padStart(18)}→ ${m.name}${m.viaTp ? ' (TP)' : ''} ${JSON.stringify(m.fields)}`;
}

/** Runs `trace`. */
export async function traceCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals: pos } = parse(argv, {
    id: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    decode: { type: 'boolean' },
    limit: { type: 'string' },
  });
  const [file] = positionals(pos, ['FILE']);
  const ids = parseIds(values.id);
  const from = numberOption(values.from, 'from') ?? -Infinity;
  const to = numberOption(values.to, 'to') ?? Infinity;
  const limit = numberOption(values.limit, 'limit') ?? Infinity;
  const log = await openInput(file);
  const pending: DecodedGbtMessage[] = [];
  const decoder = values.decode ? new GbtMessageDecoder({ onMessage: (m) => pending.push(m) }) : null;
  let printed = 0;
  let out = '';
  await reading(file, async () => {
    for await (const b of log.batches()) {
      for (let i = 0; i < b.length && printed < limit; i++) {
        const t = b.timestamps[i];
        if (decoder) decoder.pushFrame(t, b.ids[i], b.flags[i], b.data, i * MAX_PAYLOAD, b.lengths[i]);
        if (t < from || t > to || (ids && !ids.has(b.ids[i]))) {
          pending.length = 0;
          continue;
        }
        out += traceLine(b, i) + '\n';
        for (const m of pending) out += decodedLine(m) + '\n';
        pending.length = 0;
        printed++;
      }
      if (out.length > 65536) {
        io.stdout.write(out);
        out = '';
      }
      if (printed >= limit) break;
    }
  });
  io.stdout.write(out);
  return 0;
}
