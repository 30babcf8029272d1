import { Migration } from '@mikro-orm/migrations';
import { outboxTraceContextSql } from '@charge/events';

/** The trace context of a staged message, published as its NATS headers (ADR 0009). */
export class Migration20261203190000_outbox_trace_context extends Migration {
  override async up(): Promise<void> {
    for (const sql of outboxTraceContextSql('analysis')) this.addSql(sql);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "analysis"."outbox_messages" drop column "trace_context";`);
  }
}
