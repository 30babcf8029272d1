/** Runs Debian's python-can (`/usr/bin/python3`, package python3-can) for interop tests. */
import { execFileSync } from 'node:child_process';

/** A message as exchanged with the Python side (python-can field meanings). */
export interface PyMessage {
  /** Seconds; for BLF reads: relative to the file's measurement start. */
  t: number;
  id: number;
  ext: boolean;
  rtr: boolean;
  err: boolean;
  fd: boolean;
  brs: boolean;
  esi: boolean;
  rx: boolean;
  /** python-can channel (0-based int) or interface name. */
  ch: number | string | null;
  dlc: number;
  data: string;
}

const SCRIPT = String.raw`
import json, sys
import can

def dump(m, t0):
    return dict(t=m.timestamp - t0, id=m.arbitration_id, ext=m.is_extended_id, rtr=m.is_remote_frame,
                err=m.is_error_frame, fd=m.is_fd, brs=m.bitrate_switch, esi=m.error_state_indicator,
                rx=m.is_rx, ch=m.channel, dlc=m.dlc, data=bytes(m.data).hex())

def load(d):
    return can.Message(timestamp=d['t'], arbitration_id=d['id'], is_extended_id=d['ext'],
                       is_remote_frame=d['rtr'], is_error_frame=d['err'], is_fd=d['fd'],
                       bitrate_switch=d['brs'], error_state_indicator=d['esi'], is_rx=d['rx'],
                       channel=d['ch'], dlc=d['dlc'], data=bytes.fromhex(d['data']), check=False)

cmd, fmt, path = sys.argv[1], sys.argv[2], sys.argv[3]
if cmd == 'read':
    if fmt == 'blf':
        r = can.BLFReader(path); t0 = r.start_timestamp
    elif fmt == 'candump':
        r = can.CanutilsLogReader(path); t0 = 0
    else:
        r = can.ASCReader(path); t0 = 0
    print(json.dumps([dump(m, t0) for m in r]))
else:
    msgs = [load(d) for d in json.loads(sys.stdin.read())]
    if fmt == 'blf':
        w = can.BLFWriter(path)
    elif fmt == 'candump':
        w = can.CanutilsLogWriter(path)
    else:
        w = can.ASCWriter(path)
    for m in msgs:
        w.on_message_received(m)
    w.stop()
    print('ok')
`;

function python(args: string[], input?: string): string {
  try {
    return execFileSync('/usr/bin/python3', ['-c', SCRIPT, ...args], {
      input,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { code?: string; stderr?: string };
    if (err.code === 'ENOENT' || /No module named 'can'/.test(err.stderr ?? '')) {
      throw new Error(
        'python-can interop tests need Debian python-can: apt-get install -y python3-can (used via /usr/bin/python3)',
        { cause: e },
      );
    }
    throw new Error(`python-can failed: ${err.stderr ?? String(e)}`, { cause: e });
  }
}

/** Reads a log with python-can. */
export function pyRead(format: 'blf' | 'candump' | 'asc', path: string): PyMessage[] {
  return JSON.parse(python(['read', format, path])) as PyMessage[];
}

/** Writes messages with python-can. */
export function pyWrite(format: 'blf' | 'candump' | 'asc', path: string, messages: PyMessage[]): void {
  expect(python(['write', format, path], JSON.stringify(messages)).trim()).toBe('ok');
}
