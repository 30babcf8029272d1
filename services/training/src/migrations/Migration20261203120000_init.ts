import { Migration } from '@mikro-orm/migrations';
import { outboxTableSql } from '@charge/events';

const S = '"training"';

/**
 * The seed design's seven tables with timestamptz and jsonb, user ids as plain indexed
 * integers (users live in auth), foreign keys kept within the schema, one default model
 * per type (partial unique index), and the outbox.
 */
export class Migration20261203120000_init extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table ${S}."training_datasets" (
      "id" serial primary key,
      "name" varchar(100) not null,
      "description" text null,
      "dataset_type" varchar(50) null default 'standard',
      "file_path" varchar(500) null,
      "sample_count" integer null default 0,
      "meta_info" jsonb null,
      "is_public" boolean not null default false,
      "created_by" integer null,
      "created_at" timestamptz not null default current_timestamp,
      "updated_at" timestamptz not null default current_timestamp);`);
    this.addSql(
      `create index "idx_training_datasets_created_by" on ${S}."training_datasets" ("created_by");`,
    );
    this.addSql(`create index "idx_training_datasets_public" on ${S}."training_datasets" ("is_public");`);
    this.addSql(`create index "idx_training_datasets_type" on ${S}."training_datasets" ("dataset_type");`);

    this.addSql(`create table ${S}."training_configs" (
      "id" serial primary key,
      "name" varchar(100) not null,
      "base_model" varchar(100) not null,
      "model_path" varchar(500) not null,
      "adapter_type" varchar(50) not null default 'lora',
      "model_size" varchar(20) not null default '1.5b',
      "dataset_strategy" varchar(50) null default 'full',
      "hyperparameters" jsonb null,
      "notes" text null,
      "created_by" integer null,
      "created_at" timestamptz not null default current_timestamp,
      "updated_at" timestamptz not null default current_timestamp);`);
    this.addSql(`create index "idx_training_configs_created_by" on ${S}."training_configs" ("created_by");`);

    this.addSql(`create table ${S}."model_versions" (
      "id" serial primary key,
      "name" varchar(100) not null,
      "model_type" varchar(50) null default 'flow_control',
      "version" varchar(50) not null,
      "model_path" varchar(500) not null,
      "config" jsonb null,
      "metrics" jsonb null,
      "is_active" boolean not null default false,
      "is_default" boolean not null default false,
      "created_by" integer null,
      "created_at" timestamptz not null default current_timestamp);`);
    this.addSql(`create index "idx_model_versions_type" on ${S}."model_versions" ("model_type");`);
    this.addSql(`create index "idx_model_versions_active" on ${S}."model_versions" ("is_active");`);
    this.addSql(`create index "idx_model_versions_default" on ${S}."model_versions" ("is_default");`);
    this.addSql(`create index "idx_model_versions_created_by" on ${S}."model_versions" ("created_by");`);
    // At most one default per model type, whatever the interleaving of SetDefaultModel calls.
    this.addSql(
      `create unique index "uq_model_versions_one_default" on ${S}."model_versions" ("model_type") where "is_default";`,
    );

    this.addSql(`create table ${S}."training_tasks" (
      "id" serial primary key,
      "name" varchar(100) not null,
      "description" text null,
      "dataset_id" integer null references ${S}."training_datasets" ("id") on delete set null,
      "config_id" integer null references ${S}."training_configs" ("id") on delete set null,
      "model_version_id" integer null references ${S}."model_versions" ("id") on delete set null,
      "model_type" varchar(50) not null,
      "adapter_type" varchar(50) null default 'lora',
      "model_size" varchar(20) null default '1.5b',
      "hyperparameters" jsonb null,
      "status" varchar(20) not null default 'pending',
      "progress" double precision null default 0.0,
      "current_epoch" integer null default 0,
      "total_epochs" integer null,
      "current_step" integer null default 0,
      "total_steps" integer null,
      "metrics" jsonb null,
      "logs" text null,
      "error_message" text null,
      "start_time" timestamptz null,
      "end_time" timestamptz null,
      "duration_seconds" integer null,
      "gpu_memory_usage" jsonb null,
      "model_path" varchar(500) null,
      "created_by" integer null,
      "created_at" timestamptz not null default current_timestamp,
      "updated_at" timestamptz not null default current_timestamp);`);
    this.addSql(`create index "idx_training_tasks_dataset_id" on ${S}."training_tasks" ("dataset_id");`);
    this.addSql(`create index "idx_training_tasks_config_id" on ${S}."training_tasks" ("config_id");`);
    this.addSql(`create index "idx_training_tasks_status" on ${S}."training_tasks" ("status");`);
    this.addSql(`create index "idx_training_tasks_created_at" on ${S}."training_tasks" ("created_at");`);
    this.addSql(`create index "idx_training_tasks_created_by" on ${S}."training_tasks" ("created_by");`);

    this.addSql(`create table ${S}."training_metrics" (
      "id" serial primary key,
      "task_id" integer not null references ${S}."training_tasks" ("id") on delete cascade,
      "epoch" integer not null,
      "step" integer not null,
      "loss" double precision null,
      "accuracy" double precision null,
      "learning_rate" double precision null,
      "gpu_memory" double precision null,
      "custom_metrics" jsonb null,
      "created_at" timestamptz not null default current_timestamp);`);
    this.addSql(`create index "idx_training_metrics_task_id" on ${S}."training_metrics" ("task_id");`);
    this.addSql(`create index "idx_training_metrics_epoch" on ${S}."training_metrics" ("epoch");`);
    this.addSql(`create index "idx_training_metrics_step" on ${S}."training_metrics" ("step");`);

    this.addSql(`create table ${S}."training_logs" (
      "id" serial primary key,
      "task_id" integer not null references ${S}."training_tasks" ("id") on delete cascade,
      "log_level" varchar(20) not null default 'INFO',
      "message" text not null,
      "meta_info" jsonb null,
      "created_at" timestamptz not null default current_timestamp);`);
    this.addSql(`create index "idx_training_logs_task_id" on ${S}."training_logs" ("task_id");`);
    this.addSql(`create index "idx_training_logs_created_at" on ${S}."training_logs" ("created_at");`);

    this.addSql(`create table ${S}."training_evaluations" (
      "id" serial primary key,
      "task_id" integer not null references ${S}."training_tasks" ("id") on delete cascade,
      "evaluator" varchar(100) null,
      "evaluation_type" varchar(50) null default 'automatic',
      "metrics" jsonb null,
      "recommended_plan" varchar(100) null,
      "notes" text null,
      "created_by" integer null,
      "created_at" timestamptz not null default current_timestamp);`);
    this.addSql(
      `create index "idx_training_evaluations_task_id" on ${S}."training_evaluations" ("task_id");`,
    );
    this.addSql(
      `create index "idx_training_evaluations_created_by" on ${S}."training_evaluations" ("created_by");`,
    );

    for (const sql of outboxTableSql('training')) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const table of [
      'outbox_messages',
      'training_evaluations',
      'training_logs',
      'training_metrics',
      'training_tasks',
      'model_versions',
      'training_configs',
      'training_datasets',
    ]) {
      this.addSql(`drop table if exists ${S}."${table}";`);
    }
  }
}
