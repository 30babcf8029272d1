import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import pino from 'pino';
import pretty from 'pino-pretty';

export type Logger = pino.Logger;

/** A log record at warn or above, as shipped to the SYSLOG stream. */
export interface ShippedRecord {
  level: 'warn' | 'error' | 'fatal';
  time: number;
  msg: string;
  fields: Record<string, unknown>;
}

/**
 * Receives warn/error records from the logger. The sink is attached once the service
 * has a NATS connection; records logged before that, or while the sink fails, are
 * buffered up to `capacity` (oldest dropped).
 */
export class LogShipper {
  private sink?: (record: ShippedRecord) => void;
  private readonly pending: ShippedRecord[] = [];

  constructor(private readonly capacity = 1000) {}

  attach(sink: (record: ShippedRecord) => void): void {
    this.sink = sink;
    for (const record of this.pending.splice(0)) sink(record);
  }

  detach(): void {
    this.sink = undefined;
  }

  ship(record: ShippedRecord): void {
    if (this.sink) return this.sink(record);
    if (this.pending.length >= this.capacity) this.pending.shift();
    this.pending.push(record);
  }

  /** A pino destination that parses records and ships them. */
  stream(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        try {
          const { level, time, msg, ...fields } = JSON.parse(chunk.toString('utf8'));
          const name = level >= 60 ? 'fatal' : level >= 50 ? 'error' : 'warn';
          this.ship({ level: name, time, msg: String(msg ?? ''), fields });
        } catch {
          // A record that is not JSON cannot be shipped; it is still on stdout.
        }
        done();
      },
    });
  }
}

export interface LoggerOptions {
  service: string;
  level: string;
  pretty?: boolean;
  shipper?: LogShipper;
  /** Where human/JSON logs go; stdout by default. */
  destination?: NodeJS.WritableStream;
}

/** pino logger with the active trace and span ids on every record. */
export function createLogger(options: LoggerOptions): Logger {
  const main = options.pretty
    ? pretty({
        colorize: true,
        singleLine: true,
        translateTime: 'HH:MM:ss.l',
        ignore: 'pid,hostname,service',
        destination: options.destination ?? 1,
      })
    : (options.destination ?? pino.destination(1));
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: main }];
  if (options.shipper) streams.push({ level: 'warn', stream: options.shipper.stream() });
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      mixin() {
        const span = trace.getActiveSpan();
        if (!span) return {};
        const { traceId, spanId } = span.spanContext();
        return { trace_id: traceId, span_id: spanId };
      },
      redact: {
        paths: ['password', '*.password', 'refresh_token', '*.refresh_token', 'authorization'],
        censor: '[REDACTED]',
      },
    },
    pino.multistream(streams),
  );
}
