import { Migration } from '@mikro-orm/migrations';
import { outboxTableSql } from '@charge/events';

/**
 * charging_analyses and analysis_results as in the seed design, with timestamptz, jsonb, the
 * `cancelled` (and LLM) terminal statuses, file facts (name, sha256) and the job id; user_id
 * is a plain indexed integer (users live in auth). Plus the outbox.
 */
export class Migration20261203100000_init extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "analysis"."charging_analyses" (
      "id" serial primary key,
      "name" varchar(100) not null,
      "description" text null,
      "file_path" varchar(500) not null,
      "file_name" varchar(255) null,
      "file_size" bigint null,
      "file_sha256" char(64) null,
      "file_type" varchar(20) null default 'blf',
      "status" varchar(40) not null default 'pending',
      "stage" varchar(40) null,
      "progress" double precision not null default 0,
      "result_data" jsonb null,
      "error_message" text null,
      "job_id" uuid null,
      "use_llm" boolean not null default false,
      "user_id" integer not null,
      "created_at" timestamptz not null default current_timestamp,
      "updated_at" timestamptz not null default current_timestamp,
      "started_at" timestamptz null,
      "completed_at" timestamptz null,
      constraint "charging_analyses_status_check" check ("status" in ('pending', 'processing', 'completed', 'failed', 'cancelled', 'validation_failed', 'max_iterations_reached')),
      constraint "charging_analyses_progress_check" check ("progress" >= 0 and "progress" <= 1));`);
    this.addSql(
      `create index "idx_charging_analyses_user_id" on "analysis"."charging_analyses" ("user_id");`,
    );
    this.addSql(`create index "idx_charging_analyses_status" on "analysis"."charging_analyses" ("status");`);
    this.addSql(
      `create index "idx_charging_analyses_created" on "analysis"."charging_analyses" ("created_at");`,
    );

    this.addSql(`create table "analysis"."analysis_results" (
      "id" serial primary key,
      "analysis_id" integer not null references "analysis"."charging_analyses" ("id") on delete cascade,
      "result_type" varchar(50) not null,
      "title" varchar(200) not null,
      "content" text null,
      "confidence_score" double precision null,
      "meta_info" jsonb null,
      "created_at" timestamptz not null default current_timestamp);`);
    this.addSql(
      `create index "idx_analysis_results_analysis_id" on "analysis"."analysis_results" ("analysis_id");`,
    );
    this.addSql(`create index "idx_analysis_results_type" on "analysis"."analysis_results" ("result_type");`);

    for (const sql of outboxTableSql('analysis')) this.addSql(sql);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "analysis"."outbox_messages";`);
    this.addSql(`drop table if exists "analysis"."analysis_results";`);
    this.addSql(`drop table if exists "analysis"."charging_analyses";`);
  }
}
