import type { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { STREAMS } from './streams';
import { traceHeaders, type TraceCarrier } from './trace-context';

export interface RelayLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface OutboxRelayOptions {
  orm: MikroORM;
  nc: NatsConnection;
  /** The owning service's schema (where its outbox table lives). */
  schema: string;
  logger: RelayLogger;
  /** Poll interval when idle. */
  intervalMs?: number;
  batchSize?: number;
  /** Per-publish timeout; a timeout leaves the row for the next round. */
  publishTimeoutMs?: number;
}

interface Row {
  id: string;
  subject: string;
  payload: Buffer;
  trace_context: TraceCarrier | null;
}

/** Rows waiting in the outbox, and the age of the oldest. */
export interface OutboxBacklog {
  messages: number;
  oldestAgeSeconds: number;
}

const STREAM_PREFIXES = Object.values(STREAMS).flatMap((s) => s.subjects.map((p) => p.replace(/>$/, '')));

/**
 * Moves outbox rows to NATS: rows are locked with SKIP LOCKED (several replicas can
 * relay), published to JetStream with `Nats-Msg-Id` = row id (so a re-publish after a
 * crash is dropped by the stream's duplicate window), and deleted once acknowledged. While
 * NATS is unreachable rows stay where they are and are retried every interval. The trace
 * context staged with a row travels as message headers (`traceparent`, `tracestate`).
 */
export class OutboxRelay {
  private readonly js: JetStreamClient;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private wakeRequested = false;

  constructor(private readonly options: OutboxRelayOptions) {
    this.js = jetstream(options.nc, { timeout: options.publishTimeoutMs ?? 5000 });
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Relays soon (call after committing a transaction that staged messages). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.wakeRequested = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One relay pass; returns the number of messages published. */
  async relayOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.relayBatch();
      total += n;
      if (n < (this.options.batchSize ?? 100)) return total;
    }
  }

  /** What is waiting to be relayed (one count over the table; rows leave once published). */
  async backlog(): Promise<OutboxBacklog> {
    const em = this.options.orm.em.fork() as EntityManager;
    const [row] = await em
      .getConnection()
      .execute<{ messages: string | number; oldest: string | number | null }[]>(
        `select count(*) as messages, extract(epoch from now() - min(created_at)) as oldest from "${this.options.schema}"."outbox_messages"`,
      );
    return { messages: Number(row?.messages ?? 0), oldestAgeSeconds: Math.max(0, Number(row?.oldest ?? 0)) };
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.relayOnce()
        .catch((error) => this.options.logger.warn({ err: error }, 'outbox relay pass failed; will retry'))
        .then(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule(this.wakeRequested ? 0 : (this.options.intervalMs ?? 500));
          this.wakeRequested = false;
        });
    }, delay);
  }

  private async relayBatch(): Promise<number> {
    const { schema, batchSize = 100 } = this.options;
    const em = this.options.orm.em.fork() as EntityManager;
    return em.transactional(async (tem) => {
      const conn = tem.getConnection();
      const ctx = tem.getTransactionContext();
      const rows: Row[] = await conn.execute(
        `select id, subject, payload, trace_context from "${schema}"."outbox_messages" order by created_at, id limit ? for update skip locked`,
        [batchSize],
        'all',
        ctx,
      );
      const done: string[] = [];
      let failure: unknown;
      for (const row of rows) {
        try {
          await this.publish(row);
          done.push(row.id);
        } catch (error) {
          failure = error;
          break;
        }
      }
      if (done.length) {
        // One placeholder per id: the knex layer expands an array binding into a list, so
        // `any(?::uuid[])` became invalid SQL and rolled back every pass (endless re-publish).
        const placeholders = done.map(() => '?').join(', ');
        const sql = `delete from "${schema}"."outbox_messages" where id in (${placeholders})`;
        await conn.execute(sql, done, 'run', ctx);
      }
      if (failure) {
        const failed = rows[done.length];
        await conn.execute(
          `update "${schema}"."outbox_messages" set attempts = attempts + 1, last_error = ? where id = ?`,
          [String((failure as Error).message ?? failure).slice(0, 1000), failed.id],
          'run',
          ctx,
        );
        this.options.logger.debug(
          { err: failure, pending: rows.length - done.length },
          'outbox publish failed',
        );
        return 0;
      }
      return done.length;
    });
  }

  private async publish(row: Row): Promise<void> {
    const headers = traceHeaders(row.trace_context);
    if (STREAM_PREFIXES.some((p) => row.subject === p || row.subject.startsWith(p))) {
      await this.js.publish(row.subject, row.payload, { msgID: row.id, ...(headers ? { headers } : {}) });
    } else {
      // Core NATS fan-out subject (e.g. users.deleted): flush confirms the server has it.
      this.options.nc.publish(row.subject, row.payload, headers ? { headers } : undefined);
      await this.options.nc.flush();
    }
  }
}
