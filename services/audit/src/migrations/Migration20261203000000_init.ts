import { Migration } from '@mikro-orm/migrations';

/** audit_logs and system_logs as in the seed design, with timestamptz, jsonb and a unique event id. */
export class Migration20261203000000_init extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "audit"."audit_logs" (
      "id" serial primary key,
      "event_id" uuid not null,
      "service" varchar(50) not null,
      "action" varchar(50) not null,
      "resource_type" varchar(50) not null,
      "resource_id" varchar(100) null,
      "old_values" jsonb null,
      "new_values" jsonb null,
      "user_id" integer null,
      "ip_address" varchar(45) null,
      "user_agent" text null,
      "request_id" varchar(100) null,
      "timestamp" timestamptz not null default current_timestamp,
      constraint "audit_logs_event_id_unique" unique ("event_id"));`);
    this.addSql(`create index "idx_audit_logs_user_id" on "audit"."audit_logs" ("user_id");`);
    this.addSql(`create index "idx_audit_logs_resource_type" on "audit"."audit_logs" ("resource_type");`);
    this.addSql(`create index "idx_audit_logs_action" on "audit"."audit_logs" ("action");`);
    this.addSql(`create index "idx_audit_logs_timestamp" on "audit"."audit_logs" ("timestamp");`);
    this.addSql(
      `create index "idx_audit_logs_resource" on "audit"."audit_logs" ("resource_type", "resource_id");`,
    );

    this.addSql(`create table "audit"."system_logs" (
      "id" serial primary key,
      "event_id" uuid null,
      "level" varchar(20) not null,
      "module" varchar(50) not null,
      "message" text not null,
      "logger_name" varchar(100) null,
      "function_name" varchar(100) null,
      "line_number" integer null,
      "file_path" varchar(255) null,
      "user_id" integer null,
      "request_id" varchar(100) null,
      "session_id" varchar(100) null,
      "meta_info" jsonb null,
      "ip_address" varchar(45) null,
      "user_agent" text null,
      "timestamp" timestamptz not null default current_timestamp,
      constraint "system_logs_event_id_unique" unique ("event_id"));`);
    this.addSql(`create index "idx_system_logs_level" on "audit"."system_logs" ("level");`);
    this.addSql(`create index "idx_system_logs_module" on "audit"."system_logs" ("module");`);
    this.addSql(`create index "idx_system_logs_user_id" on "audit"."system_logs" ("user_id");`);
    this.addSql(`create index "idx_system_logs_timestamp" on "audit"."system_logs" ("timestamp");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "audit"."system_logs";`);
    this.addSql(`drop table if exists "audit"."audit_logs";`);
  }
}
